import type { SendJob } from '../send-job.ts';

/** One received queue message: its id, body, receive count and the handle to defer it with. */
export interface SendRecord {
  id: string;
  body: string;
  /** How many times the queue has handed this message out (SQS ApproximateReceiveCount). */
  receiveCount: number;
  handle: string;
}

/** Why a job was acknowledged without a send. */
export type SkipReason =
  | 'stale'
  | 'page-paused'
  | 'topic-missing'
  | 'subscription-missing'
  | 'subscription-inactive'
  | 'no-token'
  | 'activated-after-slot'
  | 'token-expired'
  /** Already sent or in flight for this slot, or no longer eligible: the claim was refused. */
  | 'already-claimed'
  /** Meta's frequency cap refused this person lately: no send before `cappedUntil`. */
  | 'frequency-capped'
  /**
   * The person's one Marketing Message per 12 h went, or is owed, to another of their topics
   * (`person-budget.ts`): skipped before Meta would refuse it.
   */
  | 'person-budget'
  /** Meta answered that the person is not available now (conversation gap). */
  | 'conversation-gap'
  /** Meta answered that the MM API does not serve the region: the subscription needs the other route. */
  | 'region'
  /** The slot's local date has no edition and the topic skips such dates (`whenNoEdition`). */
  | 'no-edition'
  /** The stop-spike breaker paused the topic (`lib/domain/safety/stop-spike.ts`). */
  | 'topic-paused'
  /** The send would reach the person inside their quiet hours (`safety/quiet-hours.ts`). */
  | 'quiet-hours'
  /** A broadcast's job whose subscriber is still in Meta's cooldown or budget: never sent late. */
  | 'cooldown'
  /** A broadcast's job whose broadcast was cancelled or is gone. */
  | 'broadcast-cancelled'
  /** One more marketing message would break Meta's frequency caps (`safety/frequency-forecast.ts`). */
  | 'fcap-predicted';

/** Why a job was put back on the queue, to come again after `delayMs`. */
export type DeferReason =
  /** Meta's real-time cooldown since `lastSentAt` is not over yet. */
  | 'cooldown'
  /** The Page's rate bucket has no tokens soon enough. */
  | 'rate'
  /** The Page is stopped for a while on Meta's usage report. */
  | 'throttled'
  /** Meta answered that the token's cooldown is not over. */
  | 'meta-cooldown'
  /** Meta answered with a rate-limit error. */
  | 'meta-rate-limited'
  /** A transient failure (Meta codes 1/2, HTTP 5xx, no connection), retried with backoff. */
  | 'transient'
  /** Meta holds the Page's MM sends (campaign not ready, budget spent): not a failure. */
  | 'page-held';

/** What became of one job that did not fail. */
export type SendOutcome =
  /** Sent; `confirmed` is false when the request left but no answer came (a timeout). */
  | { kind: 'sent'; job: SendJob; confirmed: boolean; messageId?: string }
  | { kind: 'skipped'; job: SendJob; reason: SkipReason; detail?: string }
  | { kind: 'deferred'; job: SendJob; reason: DeferReason; delayMs: number }
  /** Meta refused for good: the subscription's status changed or the Page was paused. */
  | {
      kind: 'refused';
      job: SendJob;
      action: 'stopped' | 'invalid' | 'unreachable' | 'page-paused';
      reason: string;
    };

/** A message body that is not a send job: it can never succeed and goes to the DLQ. */
export class PoisonJobError extends Error {
  override name = 'PoisonJobError';
}

/** A send that failed for good or ran out of retries; the message goes back, then to the DLQ. */
export class SendFailedError extends Error {
  override name = 'SendFailedError';
}

/** Deferred jobs stay on the queue: the batch response must report them as failures. */
export function isRetried(outcome: SendOutcome): boolean {
  return outcome.kind === 'deferred';
}
