import type { Clock } from '#lib/clock.ts';
import { signBody } from '#lib/http/meta-signature.ts';
import type { Log } from '#lib/log.ts';
import { createDeliveryAttempts } from './webhook-attempts.ts';

/**
 * Meta's webhook deliveries: events wait until their clock time, are batched per Page (one
 * `entry` with every pending `messaging` event and `changes` item) and signed over the exact bytes;
 * `webhook-attempts.ts` posts them and retries while our endpoint fails or is too slow.
 */

/** One event for the webhook, due at a clock instant. */
export type OutgoingEvent =
  | { kind: 'messaging'; pageId: string; dueAt: number; event: Record<string, unknown> }
  | {
      kind: 'change';
      pageId: string;
      dueAt: number;
      change: { field: string; value: Record<string, unknown> };
    }
  /** A body of its own, outside the Page envelope (bare marketing statuses). */
  | { kind: 'bare'; pageId: string; dueAt: number; body: Record<string, unknown> };

export interface WebhookDeliveryOptions {
  clock: Clock;
  appSecret: string;
  /** Our `/webhook`; without one, events are dropped (no app is subscribed). */
  url?: string;
  log: Log;
  /** Attempts per delivery before giving up; default 20 (about an hour with the defaults). */
  maxAttempts?: number;
  /** First retry delay, doubled each time (real ms); default 1000. */
  backoffMs?: number;
  /** Longest retry delay (real ms); default 300000. */
  maxBackoffMs?: number;
  /** How long one attempt may take (real ms); default 20000, as Meta. */
  timeoutMs?: number;
  /** Most events in one delivery; default 100. */
  maxBatchSize?: number;
  /** How often to look at the clock while events wait for a later instant (real ms); default 20. */
  pollMs?: number;
  /** After a delivery is given up, stop delivering that Page's events; default true, as Meta. */
  unsubscribeOnGiveUp?: boolean;
}

export interface DeliveryAttempt {
  /** Clock time the attempt started. */
  at: number;
  /** Our endpoint's HTTP status, when it answered. */
  status?: number;
  /** Why there was no answer: 'timeout' or the connection error's code. */
  error?: string;
}

/** One delivery: the exact signed body and every attempt to deliver it. */
export interface DeliveryRecord {
  id: number;
  pageId: string;
  /** The exact bytes that were signed and sent. */
  body: string;
  signature: string;
  /** How many events the body carries. */
  events: number;
  fields: string[];
  /** Clock time the batch was formed. */
  createdAt: number;
  state: 'pending' | 'delivered' | 'failed' | 'dropped';
  droppedBecause?: 'no-webhook-url' | 'unsubscribed';
  attempts: DeliveryAttempt[];
}

export interface SettleOptions {
  /** Give up waiting after this many real ms; default 10000. */
  timeoutMs?: number;
  /** Wait only for events already due by the clock (not for later marketing statuses). */
  dueOnly?: boolean;
}

export type WebhookDelivery = ReturnType<typeof createWebhookDelivery>;

/** Thrown by `settle()` when deliveries are still pending after its timeout. */
export class SettleTimeoutError extends Error {
  override name = 'SettleTimeoutError';
}

/**
 * Meta escapes everything outside ASCII as `\uXXXX` (and `/` as `\/`) in the bytes it signs, so
 * a receiver that re-serialises parsed JSON computes another signature.
 */
export function metaJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/[\u007f-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`)
    .replaceAll('/', '\\/');
}

/** Builds the webhook queue; nothing leaves before `enqueue` and a due clock. */
export function createWebhookDelivery(options: WebhookDeliveryOptions) {
  const { clock, appSecret } = options;
  const maxBatchSize = options.maxBatchSize ?? 100;
  const pollMs = options.pollMs ?? 20;

  let url = options.url;
  let stopped = false;
  let nextId = 1;
  let pumpScheduled = false;
  let pollTimer: NodeJS.Timeout | undefined;
  const pending: OutgoingEvent[] = [];
  const records: DeliveryRecord[] = [];
  const attempts = createDeliveryAttempts(options, { target: () => url, wake: pump });

  function schedulePump() {
    if (pumpScheduled || stopped) return;
    pumpScheduled = true;
    setImmediate(() => {
      pumpScheduled = false;
      pump();
    });
  }

  function pump() {
    if (stopped) return;
    attempts.attemptReady();
    const now = clock.now();
    const duePages = new Set<string>();
    for (const event of pending) {
      if (event.dueAt <= now && !attempts.isBusy(event.pageId)) duePages.add(event.pageId);
    }
    for (const pageId of duePages) {
      // A dropped batch leaves the Page free: keep forming until it is busy or has nothing due.
      while (!attempts.isBusy(pageId) && hasDue(pending, pageId, now)) formBatch(pageId, now);
    }
    if (pollTimer === undefined && pending.some((event) => event.dueAt > clock.now())) {
      pollTimer = setTimeout(() => {
        pollTimer = undefined;
        pump();
      }, pollMs);
      pollTimer.unref();
    }
  }

  function formBatch(pageId: string, now: number) {
    const taken = takeDue(pending, pageId, now, maxBatchSize);
    const record = signedRecord(nextId++, pageId, now, taken, appSecret);
    records.push(record);
    const target = url;
    if (target === undefined || !attempts.isSubscribed(pageId)) {
      record.state = 'dropped';
      record.droppedBecause = target === undefined ? 'no-webhook-url' : 'unsubscribed';
      return;
    }
    attempts.start(record);
  }

  function idle(dueOnly: boolean): boolean {
    if (attempts.unfinished() > 0) return false;
    if (!dueOnly) return pending.length === 0;
    const now = clock.now();
    return pending.every((event) => event.dueAt > now);
  }

  return {
    /** Queues one event; it leaves once the clock reaches its `dueAt`. */
    enqueue(event: OutgoingEvent): void {
      pending.push(event);
      schedulePump();
    },

    /** Where deliveries go from now on (undefined: nowhere, events are dropped). */
    setUrl(next: string | undefined): void {
      url = next;
      schedulePump();
    },

    /** Subscribes the app to a Page again after Meta gave up on it. */
    resubscribe: attempts.resubscribe,

    /** Whether Meta still delivers this Page's events. */
    isSubscribed: attempts.isSubscribed,

    /** Every delivery so far, oldest first (copies). */
    records(): DeliveryRecord[] {
      return records.map(copyOf);
    },

    /** Events waiting for their clock time. */
    waiting(): number {
      return pending.length;
    },

    /** Resolves once nothing is pending, in flight or waiting for a retry. */
    async settle(settle: SettleOptions = {}): Promise<void> {
      const dueOnly = settle.dueOnly ?? false;
      const deadline = performance.now() + (settle.timeoutMs ?? 10_000);
      while (!idle(dueOnly)) {
        schedulePump();
        if (stopped) return;
        if (performance.now() > deadline) {
          throw new SettleTimeoutError(
            `webhook deliveries still pending after ${settle.timeoutMs ?? 10_000} ms: ${attempts.unfinished()} in flight or retrying, ${pending.length} events waiting (clock ${new Date(clock.now()).toISOString()})`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },

    /** Stops delivering: aborts attempts in flight, cancels retries. */
    stop(): void {
      stopped = true;
      if (pollTimer !== undefined) clearTimeout(pollTimer);
      attempts.stop();
    },
  };
}

function hasDue(pending: readonly OutgoingEvent[], pageId: string, now: number): boolean {
  return pending.some((event) => event.pageId === pageId && event.dueAt <= now);
}

/**
 * Takes out of `pending`, in order, up to `max` events of the Page due by `now`; a bare event
 * is its own delivery, taken alone.
 */
function takeDue(pending: OutgoingEvent[], pageId: string, now: number, max: number) {
  const taken: OutgoingEvent[] = [];
  for (let index = 0; index < pending.length && taken.length < max; ) {
    const event = pending[index];
    if (event && event.pageId === pageId && event.dueAt <= now) {
      if (event.kind === 'bare' && taken.length > 0) break;
      taken.push(event);
      pending.splice(index, 1);
      if (event.kind === 'bare') break;
    } else {
      index += 1;
    }
  }
  return taken;
}

/** One delivery of the events as a single Page `entry`, signed over the bytes Meta would send. */
function signedRecord(
  id: number,
  pageId: string,
  now: number,
  taken: readonly OutgoingEvent[],
  appSecret: string,
): DeliveryRecord {
  const [first] = taken;
  const body = metaJson(first?.kind === 'bare' ? first.body : envelopeOf(pageId, now, taken));
  return {
    id,
    pageId,
    body,
    signature: signBody(body, appSecret),
    events: taken.length,
    fields: [...new Set(taken.map(fieldOf))],
    createdAt: now,
    state: 'pending',
    attempts: [],
  };
}

/** Meta's Page envelope: one `entry` holding the events' `messaging` and `changes` items. */
function envelopeOf(pageId: string, now: number, taken: readonly OutgoingEvent[]) {
  const messaging = taken.flatMap((event) => (event.kind === 'messaging' ? [event.event] : []));
  const changes = taken.flatMap((event) => (event.kind === 'change' ? [event.change] : []));
  return {
    object: 'page',
    entry: [
      {
        id: pageId,
        time: now,
        ...(messaging.length > 0 && { messaging }),
        ...(changes.length > 0 && { changes }),
      },
    ],
  };
}

function copyOf(record: DeliveryRecord): DeliveryRecord {
  return {
    ...record,
    fields: [...record.fields],
    attempts: record.attempts.map((entry) => ({ ...entry })),
  };
}

function fieldOf(event: OutgoingEvent): string {
  if (event.kind === 'change') return event.change.field;
  if (event.kind === 'bare') {
    return typeof event.body.field === 'string'
      ? event.body.field
      : 'marketing_message_delivery_failed';
  }
  if ('optin' in event.event) return 'messaging_optins';
  if ('message' in event.event) return 'messages';
  if ('policy_enforcement' in event.event || 'policy-enforcement' in event.event) {
    return 'messaging_policy_enforcement';
  }
  return 'messaging';
}
