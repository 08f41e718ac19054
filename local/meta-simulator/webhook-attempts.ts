import { createHmac } from 'node:crypto';
import type {
  DeliveryAttempt,
  DeliveryRecord,
  WebhookDeliveryOptions,
} from './webhook-delivery.ts';

/**
 * Meta's attempts at each delivery: one signed POST at a time per Page, cut off after a timeout,
 * retried with doubling backoff in real time, given up after the last attempt (and the Page then
 * unsubscribed, as Meta does).
 */

interface Batch {
  record: DeliveryRecord;
  phase: 'in-flight' | 'waiting' | 'ready';
}

/** What the attempts need from the queue that feeds them. */
export interface AttemptHooks {
  /** Where deliveries go now; undefined drops the next attempt. */
  target(): string | undefined;
  /** Called when an attempt ends or a retry is due: the queue may send more. */
  wake(): void;
}

export type DeliveryAttempts = ReturnType<typeof createDeliveryAttempts>;

/** Delivers records handed to `start`, retrying each until it is delivered or given up. */
export function createDeliveryAttempts(options: WebhookDeliveryOptions, hooks: AttemptHooks) {
  const { clock, appSecret, log } = options;
  const policy = retryPolicy(options);

  let stopped = false;
  const batches: Batch[] = [];
  const busyPages = new Set<string>();
  const unsubscribed = new Set<string>();
  const timers = new Set<NodeJS.Timeout>();
  const aborts = new Set<AbortController>();

  function attempt(batch: Batch) {
    const { record } = batch;
    const target = hooks.target();
    if (target === undefined) {
      finish(batches, batch, 'dropped');
      record.droppedBecause = 'no-webhook-url';
      return;
    }
    batch.phase = 'in-flight';
    busyPages.add(record.pageId);
    const entry: DeliveryAttempt = { at: clock.now() };
    record.attempts.push(entry);
    const abort = new AbortController();
    aborts.add(abort);
    const timer = setTimeout(() => abort.abort(new Error('timeout')), policy.timeoutMs);
    timers.add(timer);
    post(target, record, appSecret, abort.signal)
      .then((status) => {
        entry.status = status;
      })
      .catch((error: unknown) => {
        entry.error = abort.signal.aborted ? 'timeout' : errorCode(error);
      })
      .finally(() => {
        clearTimeout(timer);
        timers.delete(timer);
        aborts.delete(abort);
        busyPages.delete(record.pageId);
        if (stopped) return;
        afterAttempt(batch, entry);
        hooks.wake();
      });
  }

  function afterAttempt(batch: Batch, entry: DeliveryAttempt) {
    const { record } = batch;
    const ok = entry.status !== undefined && entry.status >= 200 && entry.status < 300;
    if (ok) {
      finish(batches, batch, 'delivered');
    } else if (record.attempts.length >= policy.maxAttempts) {
      finish(batches, batch, 'failed');
      log.warn('meta simulator: webhook delivery given up', {
        pageId: record.pageId,
        attempts: record.attempts.length,
      });
      if (policy.unsubscribeOnGiveUp) unsubscribed.add(record.pageId);
    } else {
      batch.phase = 'waiting';
      const delay = Math.min(
        policy.maxBackoffMs,
        policy.backoffMs * 2 ** (record.attempts.length - 1),
      );
      const retry = setTimeout(() => {
        timers.delete(retry);
        batch.phase = 'ready';
        hooks.wake();
      }, delay);
      timers.add(retry);
    }
  }

  return {
    /** Makes the first attempt at a new record now. */
    start(record: DeliveryRecord): void {
      const batch: Batch = { record, phase: 'ready' };
      batches.push(batch);
      attempt(batch);
    },

    /** Makes the next attempt at every record whose retry is due and whose Page is free. */
    attemptReady(): void {
      for (const batch of batches) {
        if (batch.phase === 'ready' && !busyPages.has(batch.record.pageId)) attempt(batch);
      }
    },

    /** Whether an attempt for this Page is in flight (Meta sends one at a time per Page). */
    isBusy(pageId: string): boolean {
      return busyPages.has(pageId);
    },

    /** Records in flight or waiting for a retry. */
    unfinished(): number {
      return batches.length;
    },

    /** Subscribes the app to a Page again after Meta gave up on it. */
    resubscribe(pageId: string): void {
      unsubscribed.delete(pageId);
    },

    /** Whether Meta still delivers this Page's events. */
    isSubscribed(pageId: string): boolean {
      return !unsubscribed.has(pageId);
    },

    /** Aborts attempts in flight and cancels retries. */
    stop(): void {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const abort of aborts) abort.abort(new Error('simulator stopped'));
      aborts.clear();
    },
  };
}

/** The attempt limits, with Meta's defaults. */
function retryPolicy(options: WebhookDeliveryOptions) {
  return {
    maxAttempts: options.maxAttempts ?? 20,
    backoffMs: options.backoffMs ?? 1000,
    maxBackoffMs: options.maxBackoffMs ?? 300_000,
    timeoutMs: options.timeoutMs ?? 20_000,
    unsubscribeOnGiveUp: options.unsubscribeOnGiveUp ?? true,
  };
}

/** Sets a record's final state and forgets its batch. */
function finish(batches: Batch[], batch: Batch, state: DeliveryRecord['state']) {
  batch.record.state = state;
  const index = batches.indexOf(batch);
  if (index >= 0) batches.splice(index, 1);
}

/** One POST with the headers Meta sends; resolves with our endpoint's status. */
async function post(
  target: string,
  record: DeliveryRecord,
  appSecret: string,
  signal: AbortSignal,
) {
  const response = await fetch(target, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'facebookexternalua',
      'x-hub-signature-256': record.signature,
      'x-hub-signature': `sha1=${createHmac('sha1', appSecret).update(record.body).digest('hex')}`,
    },
    body: record.body,
    signal,
  });
  await response.arrayBuffer();
  return response.status;
}

function errorCode(error: unknown): string {
  for (let current: unknown = error, depth = 0; current && depth < 4; depth++) {
    if (typeof current === 'object' && 'code' in current && typeof current.code === 'string') {
      return current.code;
    }
    current = typeof current === 'object' && 'cause' in current ? current.cause : undefined;
  }
  return error instanceof Error ? error.name : 'unknown';
}
