import type { Clock } from '../../clock.ts';
import type { Log } from '../../log.ts';
import type { BroadcastStore } from '../broadcasts/broadcast.ts';
import type { EditionStore } from '../editions/edition.ts';
import type { GraphError } from '../meta-errors.ts';
import type { DeliveryRoute } from '../page.ts';
import type { Catalog, PersonKey, StatsStore, SubscriptionStore } from '../ports.ts';
import type { ConversationCounter, ConversationHour } from '../safety/conversation-counts.ts';
import type { TopicSafetyStore } from '../safety/watch-topics.ts';
import type { Subscription, SubscriptionKey } from '../subscription.ts';
import type { TrackedSendStore } from '../tracked-send.ts';
import type { PersonBudget } from './person-budget.ts';
import type { UsagePressure, UsageReport } from './rate-bucket.ts';

/** The result of trying to claim one subscription's slot. */
export type ClaimResult =
  /** The slot is ours; `before` is the subscription as it was just before the claim. */
  | { claimed: true; before: Subscription }
  /** Already sent or in flight for this slot, no longer active, or not eligible. */
  | { claimed: false };

/** The result of trying to spend a person's Marketing Message budget. */
export type BudgetClaimResult =
  /** Spent on this job; `before` is the budget as it was (none: never spent). */
  | { claimed: true; before?: PersonBudget }
  /** Another send has it; `current` is that send's budget, when it could be read. */
  | { claimed: false; current?: PersonBudget };

/** A person's partition as the sender reads it: their subscriptions and their budgets. */
export interface PersonRecord {
  subscriptions: Subscription[];
  /** Each token's budget, by the token it belongs to. */
  budgets: { token: string; budget: PersonBudget }[];
  /** Their conversations with the Page per hour, over the last days (none counted: empty). */
  conversations?: ConversationHour[];
}

/** The sender's writes on subscriptions and Pages. */
export interface SendStore {
  /**
   * Sets `lastSlot = slot`, `lastSentAt = sentAt` (when the request will leave) and
   * `claimedBy = claimant` (the queue message) if the subscription is active and its
   * `lastSlot` is absent or below `threshold`, or is `slot` claimed by this same message (a
   * receive that crashed before finishing): the once-per-slot guard, taken before Meta is
   * called, taken by each send on its own (the rate bucket, stats and breaker counts are
   * written per batch). The Page's `route` lets the store keep a Marketing Message claim off
   * the fan-out's index (one write unit, not two).
   */
  claim(
    key: SubscriptionKey,
    slot: number,
    threshold: number,
    sentAt: number,
    claimant: string,
    route: DeliveryRoute,
  ): Promise<ClaimResult>;
  /**
   * Gives a claimed slot back after Meta refused the send: `lastSlot` and `lastSentAt` read as
   * they were before the claim again, if the claim `route` took is still `slot`'s.
   */
  release(
    key: SubscriptionKey,
    slot: number,
    previous: { lastSlot?: number; lastSentAt?: number },
    route: DeliveryRoute,
  ): Promise<void>;
  /** Reads every subscription of a person on a Page and the budgets of their tokens. */
  readPerson(person: PersonKey): Promise<PersonRecord>;
  /**
   * Spends the budget of `token` on `claim` if it was never spent, or last spent at or before
   * `freeBefore` (the send time minus 12 h), or is `claim`'s own (same message, slot and topic:
   * a receive that crashed before finishing): at most one Marketing Message per token per 12 h,
   * whichever sender asks, taken before Meta is called.
   */
  claimBudget(
    person: PersonKey,
    token: string,
    claim: PersonBudget,
    freeBefore: number,
  ): Promise<BudgetClaimResult>;
  /**
   * Gives a spent budget back after the send did not happen: restores `previous` (or no
   * budget), if the budget is still `claim`'s.
   */
  releaseBudget(
    person: PersonKey,
    token: string,
    claim: PersonBudget,
    previous: PersonBudget | undefined,
  ): Promise<void>;
  /** Stops every send of a Page until an operator acts (a Page-level Meta error). */
  pausePage(pageId: string, reason: string, at: number): Promise<void>;
  /**
   * Holds a Page's MM sends until `until` with Meta's reason (campaign not ready, budget
   * spent), unless it is already held until later.
   */
  holdPage(pageId: string, until: number, reason: string): Promise<void>;
}

/** What the bucket said to a take of tokens. */
export type TokenGrant =
  /**
   * The tokens are taken: the first is due at `sendAt` (at most the max wait ahead), each
   * next one `spacingMs` later. A request leaves at its own token's time, never before.
   */
  | { granted: true; sendAt: number; spacingMs: number }
  /** No tokens soon enough: try again from `retryAt`. */
  | { granted: false; reason: 'rate' | 'throttled'; retryAt: number };

/** A Page's shared send rate, held in one place for every concurrent sender. */
export interface RateLimiter {
  take(request: {
    pageId: string;
    tokens: number;
    ratePerSecond: number;
    now: number;
    maxWaitMs: number;
  }): Promise<TokenGrant>;
  /** Slows or stops a Page as Meta's usage report or a rate-limit error asks. */
  applyPressure(pageId: string, pressure: UsagePressure): Promise<void>;
}

/** The send queue, as the sender sees its own messages. */
export interface JobQueue {
  /** Makes received messages visible again only after their delay (SQS visibility timeout). */
  defer(entries: readonly { handle: string; delayMs: number }[]): Promise<void>;
}

/** One message for Meta, over the Page's delivery route. */
export type GraphSendRequest =
  | {
      route: 'send_api';
      pageId: string;
      /** The Page access token (sent as the `access_token` query parameter). */
      accessToken: string;
      /** The person's notification_messages token. */
      token: string;
      message: Record<string, unknown>;
    }
  | {
      route: 'marketing_messages';
      adAccountId: string;
      campaignId: string;
      /** The system-user token (sent as `Authorization: Bearer`). */
      accessToken: string;
      token: string;
      message: Record<string, unknown>;
    };

/** What came of one request to Meta. */
export type GraphSendResult =
  /** 2xx: sent; the id is Meta's message id or marketing tracking id when the answer had one. */
  | { kind: 'accepted'; messageId?: string; usage?: UsageReport }
  /** An HTTP error answer, with Meta's error when the body carried one. */
  | { kind: 'refused'; status: number; error?: GraphError; usage?: UsageReport }
  /**
   * No answer. `requestLeft` is false only when the request surely never reached Meta (the
   * connection failed); a timeout or a dropped connection may have delivered it.
   */
  | { kind: 'unanswered'; requestLeft: boolean; cause: string };

/** Meta's Graph API, for sending. */
export interface GraphClient {
  send(request: GraphSendRequest): Promise<GraphSendResult>;
}

/** Everything the sender reads, writes and calls, handed in by its composition root. */
export interface SenderDeps {
  subscriptions: Pick<SubscriptionStore, 'getMany' | 'markStatus' | 'markHolders' | 'capHolders'>;
  catalog: Catalog;
  sends: SendStore;
  rate: RateLimiter;
  queue: JobQueue;
  graph: GraphClient;
  stats: StatsStore;
  /**
   * Where accepted MM sends are kept for their status webhooks (written once per batch);
   * without it, as in benchmarks of the send path alone, nothing is kept.
   */
  tracked?: Pick<TrackedSendStore, 'record'>;
  /**
   * The stop-spike breaker's counts and pauses (`lib/domain/safety/`), fed once per batch;
   * without it, as in benchmarks of the send path alone, no topic is watched.
   */
  safety?: TopicSafetyStore;
  clock: Clock;
  /** Waits `ms` of the clock's time (short waits for rate tokens). */
  sleep: (ms: number) => Promise<void>;
  /** A number in [0, 1) for jitter. */
  random: () => number;
  log: Log;
  /**
   * Topics' editions: each job sends its local date's (`sending/edition-messages.ts`); without
   * it, as in benchmarks of the send path alone, every job sends its topic's message.
   */
  editions?: Pick<EditionStore, 'get' | 'markSent'>;
  /** Broadcasts: their jobs' message, and their counters (`sending/broadcast-jobs.ts`). */
  broadcasts?: Pick<BroadcastStore, 'get' | 'count'>;
  /**
   * Where accepted MM sends are counted for the frequency-cap forecast (once per batch); without
   * it, as in benchmarks of the send path alone, nothing is counted.
   */
  conversations?: ConversationCounter;
}

/** The sender's tuning, fixed per deployment. */
export interface SenderOptions {
  /** Jobs whose run was scheduled longer ago than this are skipped. */
  staleAfterMs: number;
  /**
   * Receives after which a transient failure fails the record; it comes back after the
   * visibility timeout until the queue's maxReceiveCount moves it to the DLQ. Every put-back
   * is a receive too, so a job deferred often reaches this bound sooner.
   */
  maxAttempts: number;
  /** The longest a batch waits in-process for tokens or a cooldown; longer waits go back to the queue. */
  maxWaitMs: number;
  /** Tokens a Page may use at once after an idle spell: one batch. */
  burst: number;
  /** From this instant an unknown error on the legacy route means the feature is off for the Page. */
  legacySwitchOffAt: number;
}

const HOUR_MS = 3_600_000;

/** The sender's tuning unless a deployment says otherwise. */
export const DEFAULT_SENDER_OPTIONS: SenderOptions = {
  staleAfterMs: 6 * HOUR_MS,
  maxAttempts: 5,
  maxWaitMs: 1_000,
  burst: 10,
  // META_PLATFORM.md section 1: legacy sends were switched off in Jan/Feb 2026 (dates differ).
  legacySwitchOffAt: Date.parse('2026-02-01T00:00:00Z'),
};
