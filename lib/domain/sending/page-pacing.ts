import { MAX_RATE_PER_SECOND } from '../page.ts';
import type { SendVerdict } from './judge-job.ts';
import type { TokenGrant } from './ports.ts';
import { isOverCeiling, PACING_MARGIN, pageRate } from './rate-bucket.ts';
import { putBackDelay } from './retry-policy.ts';
import type { Item, Ready, RunContext } from './run-context.ts';
import type { SendOutcome } from './send-outcome.ts';

/**
 * Added to the planned send time recorded by the claim, so the next cooldown errs late. Meta
 * counts the cooldown from when the request reaches it, which on a loaded host was seen well
 * over 100 ms after the token's time; a second costs the next send at most a second.
 */
export const SENT_AT_MARGIN_MS = 1_000;

/**
 * A request leaving up to this long after its token's time is sent; a later one takes a fresh
 * token. At the pacing margin a second has about 41.7 ms of slack, and Meta counts a request
 * when it arrives: the rest of the slack is for the way there (a connection opened, a busy
 * host, the network), which measured up to about 25 ms on a loaded machine.
 */
export const LATE_TOLERANCE_MS = 15;

/**
 * A fresh token for a late request is taken this far ahead, so re-recording the claim's send
 * time fits before it and the request still leaves on time.
 */
export const RETAKE_LEAD_MS = 50;

/** What the pacing does to each job once its token's time is known. */
export interface PacedSteps {
  /** Claims one job's slot for `sendAt`; a job not ready to send gets its outcome. */
  claim(item: Item, verdict: SendVerdict, sendAt: number): Promise<Ready | SendOutcome>;
  /** Sends one claimed job, now, and records what came of it. */
  send(entry: Ready): Promise<SendOutcome>;
  /** Records a claimed job's later send time, after it took a fresh token. */
  retime(entry: Ready, sendAt: number): Promise<Ready | SendOutcome>;
}

/**
 * Takes the Page's tokens a batch at a time, claims each job's slot for its own token's time
 * while it waits, and sends every request at that time: requests leave evenly spaced, never
 * in a burst. A batch whose claims came back too late takes fresh tokens rather than leave
 * late and crowd a later batch's second. Returns one result per job of `group`, in order.
 */
export async function sendForPage(
  run: RunContext,
  group: readonly { item: Item; verdict: SendVerdict }[],
  steps: PacedSteps,
): Promise<PromiseSettledResult<SendOutcome>[]> {
  const { clock } = run.deps;
  const results = new Map<Item, PromiseSettledResult<SendOutcome>>();
  const settle = (
    entries: readonly { item: Item }[],
    settled: PromiseSettledResult<SendOutcome>[],
  ) => {
    for (const [position, { item }] of entries.entries()) {
      const outcome = settled[position];
      if (outcome) results.set(item, outcome);
    }
  };
  // Jobs still waiting out a cooldown go last, so a batch waits only for its own.
  const ordered = [...group].sort((a, b) => a.verdict.notBefore - b.verdict.notBefore);
  for (let start = 0; start < ordered.length; start += run.options.burst) {
    const chunk = ordered.slice(start, start + run.options.burst);
    const notBefore = Math.max(...chunk.map(({ verdict }) => verdict.notBefore));
    const grant = await takeTokens(run, chunk, chunk.length, notBefore);
    if (!grant.granted) {
      // Nothing is claimed yet: the rest of the Page's jobs simply come back later.
      const delayMs = putBackDelay(grant.retryAt, clock.now(), run.deps.random());
      for (const { item } of ordered.slice(start)) {
        results.set(item, {
          status: 'fulfilled',
          value: run.defer(item.job, grant.reason, delayMs),
        });
      }
      break;
    }
    const claims = await Promise.allSettled(
      chunk.map(({ item, verdict }, position) =>
        steps.claim(item, verdict, tokenTime(grant, position)),
      ),
    );
    let ready: Ready[] = [];
    for (const [position, claim] of claims.entries()) {
      const entry = chunk[position];
      if (!entry) continue;
      if (claim.status === 'rejected') results.set(entry.item, claim);
      else if ('kind' in claim.value)
        results.set(entry.item, { status: 'fulfilled', value: claim.value });
      else ready.push(claim.value);
    }
    const first = ready[0]?.sendAt ?? grant.sendAt;
    await run.waitUntil(first);
    if (ready.length > 0 && clock.now() > first + LATE_TOLERANCE_MS) {
      const again = await takeTokens(run, ready, ready.length, clock.now() + RETAKE_LEAD_MS);
      if (!again.granted) {
        settle(ready, await Promise.allSettled(ready.map((entry) => giveBack(run, entry, again))));
        continue;
      }
      const late = ready;
      const retimed = await Promise.allSettled(
        late.map((entry, position) => steps.retime(entry, tokenTime(again, position))),
      );
      ready = [];
      for (const [position, result] of retimed.entries()) {
        const item = late[position]?.item;
        if (!item) continue;
        if (result.status === 'rejected') results.set(item, result);
        else if ('kind' in result.value)
          results.set(item, { status: 'fulfilled', value: result.value });
        else ready.push(result.value);
      }
    }
    settle(ready, await Promise.allSettled(ready.map((entry) => sendOnTime(run, entry, steps))));
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
 * the second of the tokens after it, and re-records its claims' time; with no token soon, its
 * claim is given back for later.
 */
async function sendOnTime(run: RunContext, entry: Ready, steps: PacedSteps): Promise<SendOutcome> {
  const { clock } = run.deps;
  await run.waitUntil(entry.sendAt);
  if (clock.now() > entry.sendAt + LATE_TOLERANCE_MS) {
    const again = await takeTokens(run, [entry], 1, clock.now() + RETAKE_LEAD_MS);
    if (!again.granted) return giveBack(run, entry, again);
    const retimed = await steps.retime(entry, again.sendAt);
    if ('kind' in retimed) return retimed;
    await run.waitUntil(retimed.sendAt);
    return steps.send(retimed);
  }
  return steps.send(entry);
}

/** Gives a claimed job's slot back and puts it back on the queue until tokens come free. */
async function giveBack(
  run: RunContext,
  entry: Ready,
  refusal: Extract<TokenGrant, { granted: false }>,
): Promise<SendOutcome> {
  await entry.release();
  const delayMs = putBackDelay(refusal.retryAt, run.deps.clock.now(), run.deps.random());
  return run.defer(entry.item.job, refusal.reason, delayMs);
}

/** One take of `tokens` on the Page's bucket, waiting once if they come free soon. */
async function takeTokens(
  run: RunContext,
  chunk: readonly { verdict: SendVerdict }[],
  tokens: number,
  notBefore: number,
): Promise<TokenGrant> {
  const { clock, rate } = run.deps;
  const { maxWaitMs } = run.options;
  const page = chunk[0]?.verdict.page;
  if (!page) throw new Error('a take needs at least one job');
  if (isOverCeiling(page.ratePerSecond)) {
    run.warnOnce(`rate ${page.pageId}`, 'page rate over Meta per-Page ceiling', {
      pageId: page.pageId,
      ratePerSecond: page.ratePerSecond,
      sendingAt: MAX_RATE_PER_SECOND,
    });
  }
  const take = () =>
    rate.take({
      pageId: page.pageId,
      tokens,
      // The margin leaves room for requests leaving a few ms after their tokens' time.
      ratePerSecond: pageRate(page.ratePerSecond) * PACING_MARGIN,
      now: Math.max(clock.now(), notBefore),
      maxWaitMs,
    });
  const grant = await take();
  if (!grant.granted && grant.reason === 'rate' && grant.retryAt - clock.now() <= maxWaitMs) {
    // Tokens come free within the max wait after all: a short wait beats a trip to the queue
    // (and keeps a saturated consumer from spinning through receives).
    await run.waitUntil(grant.retryAt);
    return take();
  }
  return grant;
}

/** The time of the take's token at `position` (0 is the first). */
function tokenTime(grant: { sendAt: number; spacingMs: number }, position: number): number {
  return grant.sendAt + position * grant.spacingMs;
}
