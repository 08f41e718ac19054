import type { Clock } from '../../clock.ts';
import { chunk } from '../../concurrency.ts';
import type { Log } from '../../log.ts';
import type { GraphCallResult } from '../meta-errors.ts';
import type { Page } from '../page.ts';
import type { AdminGraph } from './graph.ts';
import type { PendingUnsubscribe, PendingUnsubscribes } from './ports.ts';

const HOUR_MS = 3_600_000;
/** PSIDs per Unsubscribe API call when retrying. */
const BATCH = 100;

/** What telling Meta of an erasure came to, as the erasure's answer reports it. */
export type MetaUnsubscribeOutcome =
  | { status: 'unsubscribed' }
  /** Meta took the call but did not know the PSID (never subscribed, or already gone). */
  | { status: 'unknown-to-meta' }
  /** Meta is down or refused: the daily run retries from `retryAt`. */
  | { status: 'pending'; reason: string; retryAt: string }
  /** Nothing to tell Meta with (the Page is not registered here). */
  | { status: 'skipped'; reason: string };

export interface UnsubscribeDeps {
  graph: AdminGraph;
  pendingUnsubscribes: PendingUnsubscribes;
  clock: Clock;
  log: Log;
}

/**
 * Calls the Unsubscribe API for the PSIDs of `pending` (one call per 100). Confirmed ones lose
 * their pending record; the others keep it with the next attempt's time (an hour, doubled per
 * failed attempt, at most a day). Returns the outcome per PSID.
 */
export async function unsubscribeAtMeta(
  page: Page,
  pending: readonly PendingUnsubscribe[],
  deps: UnsubscribeDeps,
): Promise<Map<string, MetaUnsubscribeOutcome>> {
  const outcomes = new Map<string, MetaUnsubscribeOutcome>();
  for (const batch of chunk(pending, BATCH)) {
    const answer = await deps.graph.unsubscribe({
      pageId: page.pageId,
      accessToken: page.accessToken,
      psids: batch.map((entry) => entry.psid),
    });
    if (answer.kind === 'ok') {
      // Meta counts the rows it refused but does not name them: one PSID alone is certain.
      const outcome: MetaUnsubscribeOutcome =
        batch.length === 1 && answer.value.invalidRows > 0
          ? { status: 'unknown-to-meta' }
          : { status: 'unsubscribed' };
      for (const entry of batch) {
        await deps.pendingUnsubscribes.remove(page.pageId, entry.psid);
        outcomes.set(entry.psid, outcome);
      }
      continue;
    }
    const reason = failureReason(answer);
    const now = deps.clock.now();
    for (const entry of batch) {
      const attempts = entry.attempts + 1;
      const nextAttemptAt = now + Math.min(HOUR_MS * 2 ** (attempts - 1), 24 * HOUR_MS);
      await deps.pendingUnsubscribes.put({
        ...entry,
        attempts,
        nextAttemptAt,
        lastFailure: reason,
      });
      outcomes.set(entry.psid, {
        status: 'pending',
        reason,
        retryAt: new Date(nextAttemptAt).toISOString(),
      });
    }
    // The PSIDs are personal data: the log keeps only how many and why.
    deps.log.warn('unsubscribe at Meta failed: kept for a retry', {
      pageId: page.pageId,
      people: batch.length,
      reason,
    });
  }
  return outcomes;
}

/** Retries the Page's pending unsubscribes whose time has come; says how many Meta confirmed. */
export async function retryPendingUnsubscribes(
  page: Page,
  deps: UnsubscribeDeps,
): Promise<{ confirmed: number; stillPending: number }> {
  const now = deps.clock.now();
  const due = (await deps.pendingUnsubscribes.list(page.pageId)).filter(
    (entry) => entry.nextAttemptAt <= now,
  );
  if (due.length === 0) return { confirmed: 0, stillPending: 0 };
  const outcomes = [...(await unsubscribeAtMeta(page, due, deps)).values()];
  const stillPending = outcomes.filter((outcome) => outcome.status === 'pending').length;
  return { confirmed: outcomes.length - stillPending, stillPending };
}

/** A failed call in a few words, never Meta's message (it may quote what was sent). */
function failureReason(result: Exclude<GraphCallResult<unknown>, { kind: 'ok' }>): string {
  if (result.kind === 'unanswered') return `Meta did not answer (${result.cause})`;
  const error = result.error;
  if (!error) return `Meta answered HTTP ${result.status}`;
  return `Meta error ${error.code}${error.subcode === undefined ? '' : `/${error.subcode}`}`;
}
