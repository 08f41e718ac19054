import * as z from 'zod';
import { InvalidInputError } from '../errors.ts';
import { retryPendingUnsubscribes } from './meta-unsubscribe.ts';
import type { ReconcileState } from './ports.ts';
import { type ReconcileDeps, reconcilePage } from './reconcile.ts';

/** A Page is listed again this long after its last list read to its end. */
export const RECONCILE_EVERY_MS = 24 * 3_600_000;
/** Ticks that come this much early still count: runs are stamped with their scheduled time. */
const DUE_SLACK_MS = 15 * 60_000;
/** Pages are not started while this much of the invocation is left. */
const RESERVE_MS = 8_000;

const scheduleEventSchema = z.strictObject({
  reconcile: z.literal('daily'),
  scheduledTime: z.iso.datetime({ offset: true }).transform((value) => Date.parse(value)),
});

/** The event the reconcile schedule sends: `{"reconcile":"daily","scheduledTime":...}`. */
export type ReconcileScheduleInput = { scheduledTime: number };

/** Whether an invocation's event is the reconcile schedule's (and not an HTTP request). */
export function isReconcileSchedule(event: unknown): boolean {
  return typeof event === 'object' && event !== null && 'reconcile' in event;
}

/** Reads the reconcile schedule's event; anything else is an InvalidInputError. */
export function parseReconcileSchedule(event: unknown): ReconcileScheduleInput {
  const parsed = scheduleEventSchema.safeParse(event);
  if (!parsed.success) {
    throw new InvalidInputError(`reconcile schedule event: ${parsed.error.issues[0]?.message}`);
  }
  return { scheduledTime: parsed.data.scheduledTime };
}

/** Whether the Page's list is due at `at`: a day after the last whole one, once any retry time passed. */
export function reconcileDue(state: ReconcileState | undefined, at: number): boolean {
  if (state === undefined) return true;
  if (state.retryAt !== undefined && state.retryAt > at + DUE_SLACK_MS) return false;
  return (
    state.lastListedAt === undefined ||
    at - state.lastListedAt >= RECONCILE_EVERY_MS - DUE_SLACK_MS ||
    state.retryAt !== undefined
  );
}

export interface ScheduledReconcileResult {
  pages: number;
  reconciled: number;
  failed: number;
  /** Pages left for the next tick: the invocation ran short. */
  deferred: number;
  unsubscribesConfirmed: number;
  unsubscribesPending: number;
}

/**
 * One tick of the reconcile schedule (hourly): for every active Page, retries the erasures Meta
 * has not confirmed, then lists its tokens if due (a day after its last whole list, or its retry
 * time after a refused or cut list). A Page's failure never stops the others.
 */
export async function runScheduledReconcile(
  input: ReconcileScheduleInput,
  deps: ReconcileDeps,
  timeLeft: () => number,
): Promise<ScheduledReconcileResult> {
  const pages = (await deps.catalog.listPages()).sort((a, b) => (a.pageId < b.pageId ? -1 : 1));
  const result: ScheduledReconcileResult = {
    pages: pages.length,
    reconciled: 0,
    failed: 0,
    deferred: 0,
    unsubscribesConfirmed: 0,
    unsubscribesPending: 0,
  };
  for (const page of pages) {
    if (timeLeft() < RESERVE_MS) {
      result.deferred++;
      continue;
    }
    try {
      const retried = await retryPendingUnsubscribes(page, deps);
      result.unsubscribesConfirmed += retried.confirmed;
      result.unsubscribesPending += retried.stillPending;
      if (page.status !== 'active') continue;
      if (!reconcileDue(await deps.reconciles.getState(page.pageId), input.scheduledTime)) continue;
      await reconcilePage({ pageId: page.pageId, listedAt: input.scheduledTime }, deps, timeLeft);
      result.reconciled++;
    } catch (error: unknown) {
      // The Page's state already says when to retry; Meta's message is not repeated.
      result.failed++;
      deps.log.warn('scheduled reconcile of a Page failed', {
        pageId: page.pageId,
        error: error instanceof Error ? error.name : 'unknown',
        code: error instanceof Error && 'code' in error ? String(error.code) : undefined,
      });
    }
  }
  deps.log.info('scheduled reconcile ran', {
    scheduledTime: new Date(input.scheduledTime).toISOString(),
    ...result,
  });
  return result;
}
