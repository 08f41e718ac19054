import * as z from 'zod';
import type { Clock } from '../../clock.ts';
import type { Log } from '../../log.ts';
import { earliestSendAt, lastSlotThreshold } from '../cooldown.ts';
import { classifyMetaError, type GraphError, type MetaErrorOutcome } from '../meta-errors.ts';
import type { Page } from '../page.ts';
import type { Catalog, StatsCounter, StatsStore, SubscriptionStore } from '../ports.ts';
import { parseSendJob, type SendJob } from '../send-job.ts';
import { createStatsTally, PAGE_PAUSED_LOG_MESSAGE, STATS_LOG_MESSAGE } from '../stats.ts';
import { type Subscription, type SubscriptionKey, subscriptionId } from '../subscription.ts';
import type { Topic } from '../topic.ts';
import type {
  GraphClient,
  GraphSendRequest,
  GraphSendResult,
  JobQueue,
  RateLimiter,
  SendStore,
  TokenGrant,
} from './ports.ts';
import {
  PACING_MARGIN,
  pageRate,
  strongerPressure,
  type UsagePressure,
  usagePressure,
} from './rate-bucket.ts';

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
  | 'already-claimed';

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
  | 'transient';

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

export interface SenderDeps {
  subscriptions: Pick<SubscriptionStore, 'getMany' | 'markStatus'>;
  catalog: Catalog;
  sends: SendStore;
  rate: RateLimiter;
  queue: JobQueue;
  graph: GraphClient;
  stats: StatsStore;
  clock: Clock;
  /** Waits `ms` of the clock's time (short waits for rate tokens). */
  sleep: (ms: number) => Promise<void>;
  /** A number in [0, 1) for jitter. */
  random: () => number;
  log: Log;
}

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

export const DEFAULT_SENDER_OPTIONS: SenderOptions = {
  staleAfterMs: 6 * HOUR_MS,
  maxAttempts: 5,
  maxWaitMs: 1_000,
  burst: 10,
  // META_PLATFORM.md section 1: legacy sends were switched off in Jan/Feb 2026 (dates differ).
  legacySwitchOffAt: Date.parse('2026-02-01T00:00:00Z'),
};

/** How soon a send Meta found a little early (by our record, on time) is tried again. */
export const BOUNDARY_RETRY_MS = 30_000;
/** A refusal this soon after our own earliest send time counts as one at the boundary. */
const BOUNDARY_WINDOW_MS = 10 * 60_000;

/** Added to the planned send time recorded by the claim, so the next cooldown errs late. */
export const SENT_AT_MARGIN_MS = 100;

/** How long a Page stops after a rate-limit error that names no time to regain access. */
export const RATE_LIMIT_HOLD_MS = 60_000;
const TRANSIENT_BASE_MS = 5_000;
/**
 * With the pacing margin, a request leaving up to this long after its token's time still
 * cannot push any one second over the Page's rate.
 */
const LATE_TOLERANCE_MS = 40;
/** SQS visibility counts whole seconds: a shorter put-back would come straight back. */
const MIN_PUT_BACK_MS = 1_000;
const TRANSIENT_MAX_MS = 15 * 60_000;

/** Deferred jobs stay on the queue: the batch response must report them as failures. */
export function isRetried(outcome: SendOutcome): boolean {
  return outcome.kind === 'deferred';
}

/**
 * Sends one batch of jobs: loads what they need, skips what must not be sent, takes the
 * Page's rate tokens once per batch, claims each slot, calls Meta and turns its answer into
 * state. Returns one settled result per record, in order: a rejected one (poison job, failed
 * send, storage error) and a `deferred` outcome keep the message on the queue.
 */
export async function sendBatch(
  records: readonly SendRecord[],
  deps: SenderDeps,
  options: SenderOptions = DEFAULT_SENDER_OPTIONS,
): Promise<PromiseSettledResult<SendOutcome>[]> {
  const outcomes = new Array<PromiseSettledResult<SendOutcome>>(records.length);
  const items: Item[] = [];
  records.forEach((record, index) => {
    const read = readJob(record);
    if (read instanceof PoisonJobError) {
      deps.log.error('poison send job', { messageId: record.id, problem: read.message });
      outcomes[index] = { status: 'rejected', reason: read };
    } else {
      items.push({ index, record, job: read });
    }
  });
  const run = createRun(deps, options);
  try {
    for (const [index, outcome] of await run.process(items)) outcomes[index] = outcome;
    for (const { index, job } of items) {
      const outcome = outcomes[index];
      // A storage error leaves the job on the queue, and past its receives in the DLQ: say why.
      if (outcome?.status === 'rejected' && !(outcome.reason instanceof SendFailedError)) {
        deps.log.error('send job failed', { ...jobFields(job), error: errorName(outcome.reason) });
      }
    }
  } catch (error: unknown) {
    // Loading failed: nothing was claimed or sent, every job comes back.
    deps.log.error('sender batch failed', { error: errorName(error) });
    for (const { index } of items) outcomes[index] ??= { status: 'rejected', reason: error };
  }
  for (const [index, record] of records.entries()) {
    outcomes[index] ??= {
      status: 'rejected',
      reason: new Error(`no outcome for message ${record.id}`),
    };
  }
  await run.finish(records, outcomes);
  return outcomes;
}

interface Item {
  index: number;
  record: SendRecord;
  job: SendJob;
}

/** What was loaded for the jobs of one batch. */
interface Loaded {
  subscriptions: Map<string, Subscription>;
  pages: Map<string, Page | undefined>;
  topics: Map<string, Topic | undefined>;
}

/** The decision for one job before any write, from what was read. */
export type JobVerdict =
  | { kind: 'skip'; reason: SkipReason; detail?: string }
  | { kind: 'defer'; reason: 'cooldown'; delayMs: number }
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
  found: { page?: Page; topic?: Topic; subscription?: Subscription },
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
  if (
    page.deliveryRoute === 'marketing_messages' &&
    (page.adAccountId === undefined || page.campaignId === undefined)
  ) {
    return {
      kind: 'pause-page',
      reason: 'the marketing_messages route needs adAccountId and campaignId',
    };
  }
  const threshold = lastSlotThreshold({
    slot: job.slot,
    rule: topic,
    zone: subscription.timezone,
    route: page.deliveryRoute,
    frequency: subscription.frequency,
    pageZone: page.timezone,
  });
  const unfinished = isUnfinishedClaim(subscription, job.slot, claimant);
  if (!unfinished && subscription.lastSlot !== undefined && subscription.lastSlot >= threshold) {
    return { kind: 'skip', reason: 'already-claimed', detail: 'last slot within cooldown' };
  }
  // An unfinished claim of this message set `lastSentAt` itself: its cooldown check is done.
  const notBefore = unfinished ? now : earliestFor(subscription, page);
  if (notBefore - now > options.maxWaitMs) {
    return { kind: 'defer', reason: 'cooldown', delayMs: notBefore - now };
  }
  return { kind: 'send', page, topic, subscription, threshold, notBefore };
}

/** The Graph request for one send over the Page's route. */
export function graphRequestFor(page: Page, token: string, topic: Topic): GraphSendRequest {
  if (page.deliveryRoute === 'marketing_messages') {
    if (page.adAccountId === undefined || page.campaignId === undefined) {
      throw new Error(
        `Page ${page.pageId}: the marketing_messages route needs ad account and campaign`,
      );
    }
    return {
      route: 'marketing_messages',
      adAccountId: page.adAccountId,
      campaignId: page.campaignId,
      accessToken: page.accessToken,
      token,
      message: topic.message,
    };
  }
  return {
    route: 'send_api',
    pageId: page.pageId,
    accessToken: page.accessToken,
    token,
    message: topic.message,
  };
}

function createRun(deps: SenderDeps, options: SenderOptions) {
  const { clock, log } = deps;
  const tally = createStatsTally();
  const pressures = new Map<string, UsagePressure>();

  const count = (job: SendJob, counter: StatsCounter) =>
    tally.count(job.pageId, job.topicId, clock.now(), counter);
  const press = (pageId: string, pressure: UsagePressure) => {
    if (pressure.kind === 'none') return;
    pressures.set(pageId, strongerPressure(pressures.get(pageId) ?? { kind: 'none' }, pressure));
  };
  const skip = (job: SendJob, reason: SkipReason, detail?: string): SendOutcome => {
    log.info('send job skipped', { ...jobFields(job), reason, ...(detail && { detail }) });
    return { kind: 'skipped', job, reason, ...(detail && { detail }) };
  };
  const defer = (job: SendJob, reason: DeferReason, delayMs: number): SendOutcome => {
    const delay = Math.max(0, Math.ceil(delayMs));
    log[reason === 'rate' ? 'debug' : 'info']('send job deferred', {
      ...jobFields(job),
      reason,
      delayMs: delay,
    });
    return { kind: 'deferred', job, reason, delayMs: delay };
  };
  /** Spreads many put-backs over time so they do not come back together. */
  const jittered = (delayMs: number) => delayMs + deps.random() * Math.max(1_000, delayMs * 0.25);

  async function pausePage(job: SendJob, reason: string): Promise<SendOutcome> {
    // An operator must act: this is the alert.
    log.error(PAGE_PAUSED_LOG_MESSAGE, { pageId: job.pageId, reason });
    await deps.sends.pausePage(job.pageId, reason, clock.now());
    count(job, 'failed');
    return { kind: 'refused', job, action: 'page-paused', reason };
  }

  async function load(items: readonly Item[]): Promise<Loaded> {
    const subscriptionKeys = new Map<string, SubscriptionKey>();
    const pageIds = new Set<string>();
    const topicKeys = new Map<string, { pageId: string; topicId: string }>();
    for (const { job } of items) {
      subscriptionKeys.set(subscriptionId(job), keyOf(job));
      pageIds.add(job.pageId);
      topicKeys.set(`${job.pageId}#${job.topicId}`, { pageId: job.pageId, topicId: job.topicId });
    }
    const [subscriptions, pages, topics] = await Promise.all([
      subscriptionKeys.size > 0 ? deps.subscriptions.getMany([...subscriptionKeys.values()]) : [],
      Promise.all([...pageIds].map(async (id) => [id, await deps.catalog.getPage(id)] as const)),
      Promise.all(
        [...topicKeys].map(
          async ([id, { pageId, topicId }]) =>
            [id, await deps.catalog.getTopic(pageId, topicId)] as const,
        ),
      ),
    ]);
    return {
      subscriptions: new Map(subscriptions.map((item) => [subscriptionId(item), item])),
      pages: new Map(pages),
      topics: new Map(topics),
    };
  }

  async function process(
    items: readonly Item[],
  ): Promise<Map<number, PromiseSettledResult<SendOutcome>>> {
    const outcomes = new Map<number, PromiseSettledResult<SendOutcome>>();
    const done = (item: Item, value: SendOutcome) =>
      outcomes.set(item.index, { status: 'fulfilled', value });
    const now = clock.now();
    const fresh = items.filter((item) => {
      if (!isStale(item.job, now, options.staleAfterMs)) return true;
      done(item, skip(item.job, 'stale', `scheduled ${iso(item.job.scheduledTime)}`));
      return false;
    });
    if (fresh.length === 0) return outcomes;
    const loaded = await load(fresh);
    const toSend = new Map<string, { item: Item; verdict: SendVerdict }[]>();
    const toPause = new Map<string, { items: Item[]; reason: string }>();
    for (const item of fresh) {
      const { job } = item;
      let verdict: JobVerdict;
      try {
        verdict = judgeJob(
          job,
          {
            page: loaded.pages.get(job.pageId),
            topic: loaded.topics.get(`${job.pageId}#${job.topicId}`),
            subscription: loaded.subscriptions.get(subscriptionId(job)),
          },
          now,
          options,
          item.record.id,
        );
      } catch (error: unknown) {
        outcomes.set(item.index, { status: 'rejected', reason: error });
        continue;
      }
      if (verdict.kind === 'skip') {
        done(item, skip(job, verdict.reason, verdict.detail));
      } else if (verdict.kind === 'defer') {
        count(job, 'deferred');
        done(item, defer(job, verdict.reason, verdict.delayMs));
      } else if (verdict.kind === 'fail') {
        log.error('send failed', { ...jobFields(job), reason: verdict.reason });
        count(job, 'failed');
        outcomes.set(item.index, {
          status: 'rejected',
          reason: new SendFailedError(verdict.reason),
        });
      } else if (verdict.kind === 'pause-page') {
        const pause = toPause.get(job.pageId) ?? { items: [], reason: verdict.reason };
        pause.items.push(item);
        toPause.set(job.pageId, pause);
      } else {
        const group = toSend.get(job.pageId) ?? [];
        group.push({ item, verdict });
        toSend.set(job.pageId, group);
      }
    }
    await Promise.all([
      ...[...toPause.values()].map(async ({ items: paused, reason }) => {
        const [first] = paused;
        if (!first) return;
        const [result] = await Promise.allSettled([pausePage(first.job, reason)]);
        for (const item of paused) {
          if (result?.status === 'fulfilled') {
            if (item !== first) count(item.job, 'failed');
            done(item, { kind: 'refused', job: item.job, action: 'page-paused', reason });
          } else {
            outcomes.set(item.index, { status: 'rejected', reason: result?.reason });
          }
        }
      }),
      ...[...toSend.values()].map(async (group) => {
        const results = await sendForPage(group);
        for (const [position, { item }] of group.entries()) {
          const result = results[position];
          if (result) outcomes.set(item.index, result);
        }
      }),
    ]);
    return outcomes;
  }

  /**
   * Takes the Page's tokens a batch at a time, claims each job's slot for its own token's time
   * while it waits, and sends every request at that time: requests leave evenly spaced, never
   * in a burst. A batch whose claims came back too late takes fresh tokens rather than leave
   * late and crowd a later batch's second.
   */
  async function sendForPage(
    group: readonly { item: Item; verdict: SendVerdict }[],
  ): Promise<PromiseSettledResult<SendOutcome>[]> {
    const results = new Map<Item, PromiseSettledResult<SendOutcome>>();
    const done = (item: Item, value: SendOutcome) =>
      results.set(item, { status: 'fulfilled', value });
    // Jobs still waiting out a cooldown go last, so a batch waits only for its own.
    const ordered = [...group].sort((a, b) => a.verdict.notBefore - b.verdict.notBefore);
    for (let start = 0; start < ordered.length; start += options.burst) {
      const chunk = ordered.slice(start, start + options.burst);
      const notBefore = Math.max(...chunk.map(({ verdict }) => verdict.notBefore));
      const grant = await takeTokens(chunk, chunk.length, notBefore);
      if (!grant.granted) {
        // Nothing is claimed yet: the rest of the Page's jobs simply come back later.
        const delayMs = putBackDelay(grant);
        for (const { item } of ordered.slice(start)) {
          done(item, defer(item.job, grant.reason, delayMs));
        }
        break;
      }
      const claims = await Promise.allSettled(
        chunk.map(({ item, verdict }, position) =>
          claimFor(item, verdict, tokenTime(grant, position)),
        ),
      );
      let ready: Ready[] = [];
      for (const [position, claim] of claims.entries()) {
        const entry = chunk[position];
        if (!entry) continue;
        if (claim.status === 'rejected') results.set(entry.item, claim);
        else if ('kind' in claim.value) done(entry.item, claim.value);
        else ready.push(claim.value);
      }
      const first = ready[0]?.sendAt ?? grant.sendAt;
      await waitUntil(first);
      if (ready.length > 0 && clock.now() > first + LATE_TOLERANCE_MS) {
        const again = await takeTokens(ready, ready.length, clock.now());
        if (!again.granted) {
          const given = await Promise.allSettled(ready.map((entry) => giveBack(entry, again)));
          for (const [position, { item }] of ready.entries()) {
            const outcome = given[position];
            if (outcome) results.set(item, outcome);
          }
          continue;
        }
        ready = ready.map((entry, position) => ({ ...entry, sendAt: tokenTime(again, position) }));
      }
      const sends = await Promise.allSettled(ready.map((entry) => sendOnTime(entry)));
      for (const [position, { item }] of ready.entries()) {
        const outcome = sends[position];
        if (outcome) results.set(item, outcome);
      }
    }
    return group.map(
      ({ item }) =>
        results.get(item) ?? {
          status: 'rejected',
          reason: new Error(`no outcome for message ${item.record.id}`),
        },
    );
  }

  /**
   * Sends a claimed job at its token's time. A request that could only leave later than the
   * tolerance (a stalled event loop) takes a fresh token instead, as it would otherwise crowd
   * the second of the tokens after it; with none soon, its claim is given back for later.
   */
  async function sendOnTime(entry: Ready): Promise<SendOutcome> {
    await waitUntil(entry.sendAt);
    if (clock.now() > entry.sendAt + LATE_TOLERANCE_MS) {
      const again = await takeTokens([entry], 1, clock.now());
      if (!again.granted) return giveBack(entry, again);
      await waitUntil(again.sendAt);
    }
    return sendClaimed(entry);
  }

  /** Gives a claimed job's slot back and puts it back on the queue until tokens come free. */
  async function giveBack(
    entry: Ready,
    refusal: Extract<TokenGrant, { granted: false }>,
  ): Promise<SendOutcome> {
    await entry.release();
    return defer(entry.item.job, refusal.reason, putBackDelay(refusal));
  }

  /** How long a job refused tokens stays on the queue: until they come free, jittered. */
  function putBackDelay(refusal: Extract<TokenGrant, { granted: false }>): number {
    return jittered(Math.max(MIN_PUT_BACK_MS, refusal.retryAt - clock.now()));
  }

  /** One take of `tokens` on the Page's bucket, waiting once if they come free soon. */
  async function takeTokens(
    chunk: readonly { verdict: SendVerdict }[],
    tokens: number,
    notBefore: number,
  ): Promise<TokenGrant> {
    const page = chunk[0]?.verdict.page;
    if (!page) throw new Error('a take needs at least one job');
    const take = () =>
      deps.rate.take({
        pageId: page.pageId,
        tokens,
        // The margin leaves room for requests leaving a few ms after their tokens' time.
        ratePerSecond: pageRate(page.ratePerSecond) * PACING_MARGIN,
        now: Math.max(clock.now(), notBefore),
        maxWaitMs: options.maxWaitMs,
      });
    const grant = await take();
    if (
      !grant.granted &&
      grant.reason === 'rate' &&
      grant.retryAt - clock.now() <= options.maxWaitMs
    ) {
      // Tokens come free within the max wait after all: a short wait beats a trip to the queue
      // (and keeps a saturated consumer from spinning through receives).
      await waitUntil(grant.retryAt);
      return take();
    }
    return grant;
  }

  /** Claims one job's slot; it is ready to send unless the claim was refused or it is too early. */
  async function claimFor(
    item: Item,
    verdict: SendVerdict,
    sendAt: number,
  ): Promise<Ready | SendOutcome> {
    const { job } = item;
    const key = keyOf(job);
    // The request leaves at the tokens' time, give or take the late tolerance; a batch later
    // than that takes fresh tokens, and a send Meta then finds early is deferred, not lost.
    const sentAt = sendAt + SENT_AT_MARGIN_MS;
    const claimant = item.record.id;
    const claim = await deps.sends.claim(key, job.slot, verdict.threshold, sentAt, claimant);
    if (!claim.claimed) return skip(job, 'already-claimed');
    const before = claim.before;
    // Taken again after a crash or a lost answer: what it replaced is gone, so the slot stays
    // this message's whatever Meta answers.
    const resumed = isUnfinishedClaim(before, job.slot, claimant);
    const release = resumed
      ? () => Promise.resolve()
      : () =>
          deps.sends.release(key, job.slot, {
            ...(before.lastSlot !== undefined && { lastSlot: before.lastSlot }),
            ...(before.lastSentAt !== undefined && { lastSentAt: before.lastSentAt }),
          });
    if (before.token === undefined) {
      await release();
      return skip(job, 'no-token');
    }
    // Meta counts the cooldown in real time from the last send, as the claim just read it.
    const earliest = earliestFor(before, verdict.page);
    if (!resumed && earliest > sendAt) {
      await release();
      count(job, 'deferred');
      return defer(job, 'cooldown', earliest - clock.now());
    }
    if (resumed) log.warn('taking up a claim this message left unfinished', jobFields(job));
    return { item, verdict, token: before.token, release, resumed, sendAt };
  }

  /** Sends one claimed job and records what came of it. */
  async function sendClaimed({
    item,
    verdict,
    token,
    release,
    resumed,
  }: Ready): Promise<SendOutcome> {
    const { job } = item;
    const { page, topic } = verdict;
    const result = await deps.graph.send(graphRequestFor(page, token, topic));
    const now = clock.now();
    if (result.kind !== 'unanswered') press(page.pageId, usagePressure(result.usage, now));
    if (resumed && result.kind === 'refused' && classifyRefusal(result) === 'cooldown') {
      // The unfinished attempt reached Meta, whose cooldown now refuses a second one.
      log.warn('an unfinished claim had reached Meta; counted as sent', jobFields(job));
      count(job, 'sent');
      return { kind: 'sent', job, confirmed: false };
    }
    if (result.kind === 'accepted' || (result.kind === 'unanswered' && result.requestLeft)) {
      const confirmed = result.kind === 'accepted';
      if (!confirmed) {
        // It may have reached Meta, whose cooldown would refuse a second one: the slot is spent.
        log.warn('send unanswered after the request left; counted as sent', {
          ...jobFields(job),
          cause: result.cause,
        });
      }
      // The claim already recorded the slot and the send time: a send costs no second write.
      const messageId = result.kind === 'accepted' ? result.messageId : undefined;
      count(job, 'sent');
      log.debug('sent', { ...jobFields(job), confirmed, ...(messageId && { messageId }) });
      return { kind: 'sent', job, confirmed, ...(messageId && { messageId }) };
    }
    // Refused or surely not delivered: the slot does not count as sent.
    await release();
    if (result.kind === 'unanswered') {
      return retryTransient(item, `no connection to Meta (${result.cause})`);
    }
    return handleRefusal(item, verdict, result, now);
  }

  async function handleRefusal(
    item: Item,
    verdict: SendVerdict,
    result: Extract<GraphSendResult, { kind: 'refused' }>,
    now: number,
  ): Promise<SendOutcome> {
    const { job } = item;
    const { page, subscription } = verdict;
    const outcome = classifyRefusal(result);
    const described = describeRefusal(result, outcome);
    log.warn('meta refused a send', {
      ...jobFields(job),
      outcome,
      status: result.status,
      ...errorFields(result.error),
    });
    switch (outcome) {
      case 'cooldown': {
        // By our own record the cooldown was over: Meta saw the last send a little later than
        // the claim noted (a late request), so try again shortly rather than a whole cooldown on.
        const ourEarliest = earliestFor(subscription, page);
        const atBoundary =
          subscription.lastSentAt !== undefined &&
          ourEarliest <= now &&
          now - ourEarliest < BOUNDARY_WINDOW_MS;
        const retryAt =
          result.error?.nextEligibleAt ??
          (atBoundary
            ? now + BOUNDARY_RETRY_MS
            : earliestSendAt({
                lastSentAt: now,
                route: page.deliveryRoute,
                frequency: subscription.frequency,
                pageZone: page.timezone,
              }));
        count(job, 'deferred');
        return defer(job, 'meta-cooldown', Math.max(0, retryAt - now));
      }
      case 'rate-limited': {
        const regain = result.usage?.regainAccessMs ?? 0;
        const until = now + (regain > 0 ? regain : RATE_LIMIT_HOLD_MS);
        press(page.pageId, { kind: 'stop', until });
        count(job, 'deferred');
        return defer(job, 'meta-rate-limited', jittered(until - now));
      }
      case 'stopped':
      case 'invalid-token':
      case 'unreachable': {
        const status = outcome === 'invalid-token' ? 'invalid' : outcome;
        await deps.subscriptions.markStatus(keyOf(job), status, described);
        count(job, 'failed');
        return { kind: 'refused', job, action: status, reason: described };
      }
      case 'page-token-invalid':
      case 'page-restricted':
      case 'page-permission':
        return pausePage(job, described);
      case 'transient':
        return retryTransient(item, described);
      default: {
        if (page.deliveryRoute === 'send_api' && now >= options.legacySwitchOffAt) {
          return pausePage(
            job,
            `${described}: legacy sends are switched off for this audience; the Page needs the Marketing Message API`,
          );
        }
        count(job, 'failed');
        log.error('send failed', { ...jobFields(job), reason: described });
        throw new SendFailedError(described);
      }
    }
  }

  function retryTransient(item: Item, reason: string): SendOutcome {
    const { job, record } = item;
    if (record.receiveCount < options.maxAttempts) {
      const backoff = Math.min(
        TRANSIENT_MAX_MS,
        TRANSIENT_BASE_MS * 2 ** (record.receiveCount - 1),
      );
      count(job, 'deferred');
      return defer(job, 'transient', backoff * (0.75 + deps.random() * 0.5));
    }
    count(job, 'failed');
    const message = `${reason}; gave up after ${record.receiveCount} attempts`;
    log.error('send failed', { ...jobFields(job), reason: message });
    throw new SendFailedError(message);
  }

  async function waitUntil(instant: number): Promise<void> {
    const ms = instant - clock.now();
    if (ms > 0) await deps.sleep(ms);
  }

  /** Puts deferred jobs back, adds the batch's counters and applies Meta's usage reports. */
  async function finish(
    records: readonly SendRecord[],
    outcomes: readonly PromiseSettledResult<SendOutcome>[],
  ): Promise<void> {
    const deferrals: { handle: string; delayMs: number }[] = [];
    outcomes.forEach((outcome, index) => {
      const record = records[index];
      if (record && outcome.status === 'fulfilled' && outcome.value.kind === 'deferred') {
        deferrals.push({ handle: record.handle, delayMs: outcome.value.delayMs });
      }
    });
    const steps: [string, () => Promise<void>][] = [
      ['defer', () => (deferrals.length ? deps.queue.defer(deferrals) : Promise.resolve())],
      [
        'stats',
        async () => {
          await deps.stats.add(tally.increments());
          const totals = tally.totals();
          // Metric filters on this line feed the dashboard's sends, deferrals and failures.
          if (Object.keys(totals).length > 0) log.info(STATS_LOG_MESSAGE, totals);
        },
      ],
      ...[...pressures].map(
        ([pageId, pressure]) =>
          [`pressure ${pageId}`, () => deps.rate.applyPressure(pageId, pressure)] as [
            string,
            () => Promise<void>,
          ],
      ),
    ];
    await Promise.all(
      steps.map(async ([step, run]) => {
        try {
          await run();
        } catch (error: unknown) {
          // Deferred jobs still come back (after the queue's own visibility timeout).
          log.error('sender batch step failed', {
            step,
            error: errorName(error),
            ...(step === 'stats' && { counts: tally.increments() }),
          });
        }
      }),
    );
  }

  return { process, finish };
}

type SendVerdict = Extract<JobVerdict, { kind: 'send' }>;

/** A claimed job, ready to leave at its tokens' time. */
interface Ready {
  item: Item;
  verdict: SendVerdict;
  token: string;
  release: () => Promise<void>;
  /** This message's own claim, left unfinished (crash, lost answer): it may have reached Meta. */
  resumed: boolean;
  /** Its token's time: the request leaves then. */
  sendAt: number;
}

/** The time of the take's token at `position` (0 is the first). */
function tokenTime(grant: { sendAt: number; spacingMs: number }, position: number): number {
  return grant.sendAt + position * grant.spacingMs;
}

/** Meta's error as one of the states of META_PLATFORM.md section 5. */
export function classifyRefusal(
  result: Extract<GraphSendResult, { kind: 'refused' }>,
): MetaErrorOutcome {
  const outcome = result.error ? classifyMetaError(result.error) : 'unknown';
  // A 5xx that names no known error is Meta having a bad moment.
  return outcome === 'unknown' && result.status >= 500 ? 'transient' : outcome;
}

function describeRefusal(
  result: Extract<GraphSendResult, { kind: 'refused' }>,
  outcome: MetaErrorOutcome,
): string {
  const error = result.error;
  const code = error ? `${error.code}/${error.subcode ?? '-'}` : 'no error body';
  const trace = error?.fbtraceId ? `, fbtrace_id ${error.fbtraceId}` : '';
  return `meta error ${code} (HTTP ${result.status}${trace}): ${outcome}`;
}

function readJob(record: SendRecord): SendJob | PoisonJobError {
  try {
    return parseSendJob(record.body);
  } catch (error: unknown) {
    // Never echo the body: a stray token may be in it. Zod issues name fields, not values.
    if (error instanceof SyntaxError) return new PoisonJobError('body is not JSON');
    const issues =
      error instanceof z.ZodError
        ? error.issues
            .map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`)
            .join('; ')
        : 'not a send job';
    return new PoisonJobError(`body is not a send job: ${issues}`);
  }
}

function earliestFor(subscription: Subscription, page: Page): number {
  return earliestSendAt({
    lastSentAt: subscription.lastSentAt,
    route: page.deliveryRoute,
    frequency: subscription.frequency,
    pageZone: page.timezone,
  });
}

function keyOf({ pageId, psid, topicId }: SubscriptionKey): SubscriptionKey {
  return { pageId, psid, topicId };
}

function jobFields(job: SendJob) {
  return { pageId: job.pageId, topicId: job.topicId, psid: job.psid, slot: job.slot };
}

function errorFields(error: GraphError | undefined) {
  if (!error) return {};
  return {
    code: error.code,
    ...(error.subcode !== undefined && { subcode: error.subcode }),
    ...(error.type !== undefined && { type: error.type }),
    ...(error.fbtraceId !== undefined && { fbtraceId: error.fbtraceId }),
  };
}

function errorName(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}
