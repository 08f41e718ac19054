/**
 * A Marketing Message API send as Recurrent keeps it to join Meta's status webhooks to it
 * (META_PLATFORM.md section 3): the sender records each accepted send once, the webhook moves
 * its status forward and counts the move on the send's topic and day.
 */

/** How far a marketing message got. `sent` is where every recorded send starts (an echo says no more). */
export type SendStatus = 'sent' | 'delivered' | 'read' | 'clicked' | 'failed';

/**
 * The order statuses move in: sent < delivered < read < clicked; `failed` only from `sent`,
 * and nothing moves a failed send. Stored as `statusRank` so the move is one condition.
 */
export const STATUS_RANK: Readonly<Record<SendStatus, number>> = {
  sent: 0,
  delivered: 1,
  read: 2,
  clicked: 3,
  failed: 4,
};

/** Whether a send at `from` takes `to`: forward only, and a failure only before any delivery. */
export function canMove(from: SendStatus, to: SendStatus): boolean {
  if (to === 'failed') return from === 'sent';
  return STATUS_RANK[from] < STATUS_RANK[to];
}

/** The counters a status counts in, by status. */
export type StatusCounter = 'delivered' | 'read' | 'clicked' | 'undelivered';

const FUNNEL: readonly (SendStatus & StatusCounter)[] = ['delivered', 'read', 'clicked'];

/**
 * The counters a move adds: every step it passes, so a read before its delivery counts both
 * and the later delivery nothing. Any order of the same statuses ends with the same counts.
 */
export function countersFor(from: SendStatus, to: SendStatus): StatusCounter[] {
  if (!canMove(from, to)) return [];
  if (to === 'failed') return ['undelivered'];
  return FUNNEL.filter(
    (status) => STATUS_RANK[status] > STATUS_RANK[from] && STATUS_RANK[status] <= STATUS_RANK[to],
  );
}

/** How long a send is kept for joining: Meta's clicks may come days after the message. */
export const TRACKED_SEND_TTL_MS = 7 * 24 * 3_600_000;

/**
 * How much later than Meta's event time our send time may read (the request leaves at its
 * token's time plus a margin; Meta's clock is not ours). Sends to one token are at least 12 h
 * apart, so this never picks the wrong one.
 */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** A send Meta accepted on the MM route with a tracking id. */
export interface TrackedSend {
  pageId: string;
  psid: string;
  topicId: string;
  /** The person's MM token; adapters keep only its hash. */
  token: string;
  campaignId: string;
  trackingId: string;
  /** When the request left (the claim's `lastSentAt`). */
  sentAt: number;
  /** The local date of the edition it sent: its statuses also count on that edition. */
  editionDate?: string;
}

/**
 * How a status webhook names its send: by tracking id (echo, delivery, read), or by token and
 * campaign at a time (click, delivery_failed carry no tracking id): the latest send of that
 * token and campaign made before `at` (give or take `CLOCK_SKEW_MS`).
 */
export type SendRef =
  | { token: string; trackingId: string }
  | { token: string; campaignId: string; at: number };

/** What a status did to the send it names. */
export type StatusMove =
  /** The send moved from `from` to the new status. */
  | { kind: 'moved'; send: Omit<TrackedSend, 'token'>; from: SendStatus }
  /** The send is already there or further (a duplicate, or a late status): nothing changed. */
  | { kind: 'unchanged'; send: Omit<TrackedSend, 'token'>; current: SendStatus }
  /** No send kept joins it (never recorded, another app's, or older than the TTL). */
  | { kind: 'unmatched' };

/** The kept sends: one write per send, one conditional write per status. */
export interface TrackedSendStore {
  /** Keeps sends for `TRACKED_SEND_TTL_MS` from their send time, each at `sent`. */
  record(sends: readonly TrackedSend[]): Promise<void>;
  /**
   * Moves the named send to `status` when `canMove` allows it, atomically (one of two racing
   * duplicates moves it); `now` decides whether the kept send has expired.
   */
  advance(ref: SendRef, status: SendStatus, now: number): Promise<StatusMove>;
}
