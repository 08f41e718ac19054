import { earliestSendAt, lastSlotThreshold } from '../cooldown.ts';
import { isHeld, type Page } from '../page.ts';
import { describeBreach, forecastFrequencyCap } from '../safety/frequency-forecast.ts';
import { describeQuietHours, isQuiet, quietHoursFor } from '../safety/quiet-hours.ts';
import { isStopOrBlock } from '../safety/stop-spike.ts';
import type { SendAnswer } from '../safety/watch-topics.ts';
import type { SendJob } from '../send-job.ts';
import type { Subscription } from '../subscription.ts';
import type { Topic } from '../topic.ts';
import { broadcastThreshold } from './broadcast-jobs.ts';
import {
  type BudgetVerdict,
  budgetVerdict,
  higherTopicDue,
  isOwnBudget,
  type PersonView,
} from './person-budget.ts';
import type { SenderOptions } from './ports.ts';
import type { SendOutcome, SkipReason } from './send-outcome.ts';

/** The decision for one job before any write, from what was read. */
export type JobVerdict =
  | { kind: 'skip'; reason: SkipReason; detail?: string }
  | { kind: 'defer'; reason: 'cooldown' | 'page-held'; delayMs: number }
  | { kind: 'pause-page'; reason: string }
  /** It can never be sent: it goes back until the queue moves it to the DLQ. */
  | { kind: 'fail'; reason: string }
  | {
      kind: 'send';
      page: Page;
      topic: Topic;
      subscription: Subscription;
      threshold: number;
      /** Meta's real-time cooldown ends then (at most the max wait ahead). */
      notBefore: number;
    };

/** Whether a job's run was scheduled too long ago to send it now. */
export function isStale(job: SendJob, now: number, staleAfterMs: number): boolean {
  return job.scheduledTime < now - staleAfterMs;
}

/**
 * Whether `subscription` holds a claim for `slot` that the queue message `claimant` took on an
 * earlier receive and never finished (the sender crashed or timed out before the message was
 * deleted): that message, and only it, may take the claim again and finish the send.
 */
export function isUnfinishedClaim(
  subscription: Pick<Subscription, 'lastSlot' | 'claimedBy'>,
  slot: number,
  claimant: string | undefined,
): boolean {
  return (
    claimant !== undefined && subscription.lastSlot === slot && subscription.claimedBy === claimant
  );
}

/**
 * Decides what to do with one job from the stored state, before anything is written;
 * `claimant` is the queue message carrying the job.
 */
export function judgeJob(
  job: SendJob,
  found: { page?: Page; topic?: Topic; subscription?: Subscription; person?: PersonView },
  now: number,
  options: Pick<SenderOptions, 'staleAfterMs' | 'maxWaitMs'>,
  claimant?: string,
): JobVerdict {
  if (isStale(job, now, options.staleAfterMs)) {
    return { kind: 'skip', reason: 'stale', detail: `scheduled ${iso(job.scheduledTime)}` };
  }
  const { page, topic, subscription } = found;
  // Not a job to drop quietly: an operator must see it in the DLQ (and its alarm).
  if (!page) return { kind: 'fail', reason: `Page ${job.pageId} is not registered` };
  if (page.status === 'paused') {
    return { kind: 'skip', reason: 'page-paused', detail: page.pausedReason ?? 'paused' };
  }
  if (!topic) return { kind: 'skip', reason: 'topic-missing' };
  if (topic.paused) return { kind: 'skip', reason: 'topic-paused', detail: topic.paused.reason };
  if (!subscription) return { kind: 'skip', reason: 'subscription-missing' };
  if (subscription.status !== 'active') {
    return { kind: 'skip', reason: 'subscription-inactive', detail: subscription.status };
  }
  if (subscription.token === undefined) return { kind: 'skip', reason: 'no-token' };
  if (subscription.activeSince !== undefined && subscription.activeSince > job.slot) {
    return { kind: 'skip', reason: 'activated-after-slot' };
  }
  if (subscription.tokenExpiresAt !== undefined && job.slot >= subscription.tokenExpiresAt) {
    return { kind: 'skip', reason: 'token-expired' };
  }
  if (subscription.cappedUntil !== undefined && subscription.cappedUntil > now) {
    return {
      kind: 'skip',
      reason: 'frequency-capped',
      detail: `until ${iso(subscription.cappedUntil)}`,
    };
  }
  if (isHeld(page, now)) {
    // Back on the queue until the hold ends: the job is still due, just not now.
    return { kind: 'defer', reason: 'page-held', delayMs: page.heldUntil - now };
  }
  if (
    page.deliveryRoute === 'marketing_messages' &&
    (page.adAccountId === undefined || page.campaignId === undefined)
  ) {
    return {
      kind: 'pause-page',
      reason: 'the marketing_messages route needs adAccountId and campaignId',
    };
  }
  const slotThreshold = lastSlotThreshold({
    slot: job.slot,
    rule: topic,
    zone: subscription.timezone,
    route: page.deliveryRoute,
    frequency: subscription.frequency,
    pageZone: page.timezone,
  });
  // A broadcast's instant is no slot of the topic: its cooldown is counted in real time.
  const threshold = job.broadcastId ? broadcastThreshold(job, subscription, page) : slotThreshold;
  const unfinished = isUnfinishedClaim(subscription, job.slot, claimant);
  if (!unfinished && subscription.lastSlot !== undefined && subscription.lastSlot >= threshold) {
    return { kind: 'skip', reason: 'already-claimed', detail: 'last slot within cooldown' };
  }
  // An unfinished claim of this message set `lastSentAt` itself: its cooldown check is done.
  let notBefore = unfinished ? now : earliestFor(subscription, page);
  if (page.deliveryRoute === 'marketing_messages' && found.person) {
    const budget = judgeBudget(job, topic, page, found.person, now, options, {
      claimant,
      unfinished,
    });
    if (budget.kind === 'skip')
      return { kind: 'skip', reason: 'person-budget', detail: budget.detail };
    notBefore = Math.max(notBefore, budget.freeAt);
    // A claim this message left unfinished may have reached Meta: it was decided already.
    const breach = unfinished
      ? undefined
      : forecastFrequencyCap(found.person.conversations ?? [], Math.max(now, notBefore));
    if (breach) return { kind: 'skip', reason: 'fcap-predicted', detail: describeBreach(breach) };
  }
  const quiet = quietHoursFor(page, topic);
  // Late (a caught-up run, a stale retry) or held back until then: never at night.
  if (isQuiet(Math.max(now, notBefore), subscription.timezone, quiet)) {
    const detail = `${describeQuietHours(quiet)} in ${subscription.timezone}`;
    return { kind: 'skip', reason: 'quiet-hours', detail };
  }
  if (notBefore - now > options.maxWaitMs) {
    return { kind: 'defer', reason: 'cooldown', delayMs: notBefore - now };
  }
  return { kind: 'send', page, topic, subscription, threshold, notBefore };
}

/**
 * The person's one Marketing Message per 12 h: spent on another topic's slot near this one,
 * or owed to a topic they rank higher that falls due near it, this job is skipped; else it
 * goes once the budget is free. A claim this message left unfinished was decided already.
 */
function judgeBudget(
  job: SendJob,
  topic: Topic,
  page: Page,
  person: PersonView,
  now: number,
  options: Pick<SenderOptions, 'staleAfterMs'>,
  { claimant, unfinished }: { claimant: string | undefined; unfinished: boolean },
): BudgetVerdict {
  const verdict = budgetVerdict(person.budget, job, claimant);
  const own = person.budget !== undefined && isOwnBudget(person.budget, job, claimant);
  if (verdict.kind === 'skip' || own || unfinished) return verdict;
  const higher = higherTopicDue({
    job,
    topic,
    page,
    holders: person.holders,
    now,
    staleAfterMs: options.staleAfterMs,
  });
  if (higher === undefined) return verdict;
  return { kind: 'skip', detail: `topic ${higher.topicId} ranks higher, due ${iso(higher.slot)}` };
}

/** A verdict to send: what the claim and the request need. */
export type SendVerdict = Extract<JobVerdict, { kind: 'send' }>;

/** The earliest instant Meta's real-time cooldown lets this subscription's next send leave. */
export function earliestFor(subscription: Subscription, page: Page): number {
  return earliestSendAt({
    lastSentAt: subscription.lastSentAt,
    route: page.deliveryRoute,
    frequency: subscription.frequency,
    pageZone: page.timezone,
  });
}

/** An instant as ISO text, for log details. */
export function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

/**
 * What the stop-spike breaker counts of a batch's outcomes: each request that reached Meta,
 * and each refusal that set a person stopped or unreachable (a stop or a block, as the Meta
 * error table names them).
 */
export function safetyAnswers(
  outcomes: readonly PromiseSettledResult<SendOutcome>[],
): SendAnswer[] {
  return outcomes.flatMap((outcome) => {
    if (outcome.status !== 'fulfilled') return [];
    const { value } = outcome;
    const stopped =
      value.kind === 'refused' && value.action !== 'page-paused' && isStopOrBlock(value.action);
    if (value.kind !== 'sent' && !stopped) return [];
    const { pageId, topicId } = value.job;
    return [{ pageId, topicId, sent: value.kind === 'sent', stopped }];
  });
}
