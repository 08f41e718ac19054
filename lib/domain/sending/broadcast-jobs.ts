import type { Broadcast, BroadcastCounts, BroadcastStore } from '../broadcasts/broadcast.ts';
import { calendarPeriodOf, calendarPeriodStart, routeCooldownMs } from '../cooldown.ts';
import type { Page } from '../page.ts';
import type { SendJob } from '../send-job.ts';
import { skipCounter } from '../stats.ts';
import type { Subscription } from '../subscription.ts';
import type { JobVerdict, SendVerdict } from './judge-job.ts';
import type { Item, RunContext } from './run-context.ts';
import type { SendOutcome } from './send-outcome.ts';

type Entry = { item: Item; verdict: SendVerdict };
type Groups = ReadonlyMap<string, Entry[]>;

/** What the sender uses of broadcasts: their message, and their counters. */
export type BroadcastReads = Pick<BroadcastStore, 'get' | 'count'>;

/**
 * The value `lastSlot` must be below for a broadcast's job (its slot is the broadcast's instant
 * in the subscriber's zone): a send less than the route's cooldown before it, or in the calendar
 * period of an old WEEKLY/MONTHLY token, keeps it from going. The claim takes it with this
 * threshold, so a second job of the same broadcast finds it taken.
 */
export function broadcastThreshold(
  job: SendJob,
  subscription: Pick<Subscription, 'frequency'>,
  page: Pick<Page, 'deliveryRoute' | 'timezone'>,
): number {
  const byRoute = job.slot - routeCooldownMs(page.deliveryRoute) + 1;
  const period = calendarPeriodOf(subscription.frequency);
  return period === undefined
    ? byRoute
    : Math.min(byRoute, calendarPeriodStart(period, page.timezone, job.slot));
}

/**
 * Broadcast job: no defer. A broadcast goes at its time or not at all, so what would put a
 * slot's job back for Meta's cooldown or the person budget skips it with reason `cooldown`, and
 * a last slot within the cooldown is `cooldown` too (the same broadcast again stays
 * `already-claimed`). Every other verdict stands; a slot's job passes unchanged.
 */
export function broadcastVerdict(
  job: SendJob,
  verdict: JobVerdict,
  subscription: Pick<Subscription, 'lastSlot'> | undefined,
  now: number,
): JobVerdict {
  if (job.broadcastId === undefined) return verdict;
  if (verdict.kind === 'defer' && verdict.reason === 'cooldown') {
    return {
      kind: 'skip',
      reason: 'cooldown',
      detail: `cooldown until ${iso(now + verdict.delayMs)}`,
    };
  }
  const lastSlot = subscription?.lastSlot;
  if (verdict.kind === 'skip' && verdict.reason === 'already-claimed' && lastSlot !== job.slot) {
    const detail = lastSlot === undefined ? undefined : `last sent for ${iso(lastSlot)}`;
    return { kind: 'skip', reason: 'cooldown', ...(detail && { detail }) };
  }
  return verdict;
}

/**
 * Puts a job back until Meta's cooldown or the person budget lets it go, or, for a broadcast's
 * job (no defer), skips it with reason `cooldown`: the claim's fresh read or Meta found it
 * still in cooldown.
 */
export function cooldownPutBack(run: RunContext, job: SendJob, delayMs: number): SendOutcome {
  if (job.broadcastId !== undefined) {
    return run.skip(job, 'cooldown', `cooldown until ${iso(run.deps.clock.now() + delayMs)}`);
  }
  run.count(job, 'deferred');
  return run.defer(job, 'cooldown', delayMs);
}

/**
 * Splits the jobs about to be sent: slots' jobs (for editions) apart, and broadcasts' jobs with
 * their broadcast's message (read once per batch per broadcast); those of a broadcast cancelled
 * or gone come back in `skipped`.
 */
export async function withBroadcasts(
  run: RunContext,
  groups: Groups,
): Promise<{ slots: Map<string, Entry[]>; groups: Map<string, Entry[]>; skipped: Item[] }> {
  const slots = new Map<string, Entry[]>();
  const broadcastEntries = new Map<string, Entry[]>();
  for (const [pageId, entries] of groups) {
    const own = entries.filter((entry) => entry.item.job.broadcastId === undefined);
    if (own.length > 0) slots.set(pageId, own);
    const others = entries.filter((entry) => entry.item.job.broadcastId !== undefined);
    if (others.length > 0) broadcastEntries.set(pageId, others);
  }
  const { broadcasts } = run.deps;
  const ids = new Map<string, Entry>();
  for (const entries of broadcastEntries.values()) {
    for (const entry of entries) ids.set(idOf(entry.item.job), entry);
  }
  const found = new Map<string, Broadcast | undefined>(
    await Promise.all(
      [...ids].map(async ([id, { item }]) => {
        const { pageId, topicId, broadcastId = '' } = item.job;
        return [id, await broadcasts?.get({ pageId, topicId, broadcastId })] as const;
      }),
    ),
  );
  const kept = new Map<string, Entry[]>();
  const skipped: Item[] = [];
  for (const [pageId, entries] of broadcastEntries) {
    const sending: Entry[] = [];
    for (const entry of entries) {
      const broadcast = found.get(idOf(entry.item.job));
      if (!broadcast || broadcast.cancelledAt !== undefined) {
        skipped.push(entry.item);
        continue;
      }
      const topic = { ...entry.verdict.topic, message: broadcast.message };
      sending.push({ item: entry.item, verdict: { ...entry.verdict, topic } });
    }
    if (sending.length > 0) kept.set(pageId, sending);
  }
  return { slots, groups: kept, skipped };
}

/** Both sets of jobs per Page, so each Page's rate tokens are taken once for all of them. */
export function mergeGroups(a: Groups, b: Groups): Map<string, Entry[]> {
  const merged = new Map(a);
  for (const [pageId, entries] of b)
    merged.set(pageId, [...(merged.get(pageId) ?? []), ...entries]);
  return merged;
}

/**
 * Adds each broadcast's sends, failures and skips by reason in this batch to its counters, once
 * per broadcast; put-back jobs are counted when they end.
 */
export async function countBroadcasts(
  run: RunContext,
  outcomes: readonly PromiseSettledResult<SendOutcome>[],
): Promise<void> {
  const { broadcasts } = run.deps;
  if (!broadcasts) return;
  const tallies = new Map<string, { job: SendJob; counts: BroadcastCounts }>();
  for (const outcome of outcomes) {
    if (outcome.status !== 'fulfilled' || outcome.value.job.broadcastId === undefined) continue;
    const { value } = outcome;
    const counter =
      value.kind === 'sent'
        ? 'sent'
        : value.kind === 'refused'
          ? 'failed'
          : value.kind === 'skipped'
            ? skipCounter(value.reason)
            : undefined;
    if (counter === undefined) continue;
    const tally = tallies.get(idOf(value.job)) ?? { job: value.job, counts: {} };
    tally.counts[counter] = (tally.counts[counter] ?? 0) + 1;
    tallies.set(idOf(value.job), tally);
  }
  await Promise.all(
    [...tallies.values()].map(({ job, counts }) =>
      broadcasts.count(
        { pageId: job.pageId, topicId: job.topicId, broadcastId: job.broadcastId ?? '' },
        counts,
      ),
    ),
  );
}

function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

function idOf({ pageId, topicId, broadcastId }: SendJob): string {
  return `${pageId}#${topicId}#${broadcastId}`;
}
