import type { GraphError } from '../meta-errors.ts';
import { type SendJob, sendJobId } from '../send-job.ts';
import { PAGE_HELD_LOG_MESSAGE, PAGE_PAUSED_LOG_MESSAGE } from '../stats.ts';
import { cooldownPutBack } from './broadcast-jobs.ts';
import { earliestFor, isUnfinishedClaim, type SendVerdict } from './judge-job.ts';
import {
  classifyRefusal,
  graphRequestFor,
  type Refusal,
  refusalVerdict,
  trackedSendFor,
} from './meta-exchange.ts';
import { LATE_TOLERANCE_MS, SENT_AT_MARGIN_MS } from './page-pacing.ts';
import { budgetVerdict, PERSON_BUDGET_MS } from './person-budget.ts';
import { usagePressure } from './rate-bucket.ts';
import { jittered, transientBackoff } from './retry-policy.ts';
import { type Item, jobFields, keyOf, type Ready, type RunContext } from './run-context.ts';
import { SendFailedError, type SendOutcome } from './send-outcome.ts';

/** Claims one job's slot; it is ready to send unless the claim was refused or it is too early. */
export async function claimFor(
  run: RunContext,
  item: Item,
  verdict: SendVerdict,
  sendAt: number,
): Promise<Ready | SendOutcome> {
  const { deps } = run;
  const { job } = item;
  const key = keyOf(job);
  // The request leaves at the tokens' time, give or take the late tolerance; a batch later
  // than that takes fresh tokens, and a send Meta then finds early is deferred, not lost.
  const sentAt = sendAt + SENT_AT_MARGIN_MS;
  const claimant = item.record.id;
  const route = verdict.page.deliveryRoute;
  const claim = await deps.sends.claim(key, job.slot, verdict.threshold, sentAt, claimant, route);
  if (!claim.claimed) return run.skip(job, 'already-claimed');
  const before = claim.before;
  // Taken again after a crash or a lost answer: what it replaced is gone, so the slot stays
  // this message's whatever Meta answers.
  const resumed = isUnfinishedClaim(before, job.slot, claimant);
  const releaseSlot = resumed
    ? () => Promise.resolve()
    : () =>
        deps.sends.release(
          key,
          job.slot,
          {
            ...(before.lastSlot !== undefined && { lastSlot: before.lastSlot }),
            ...(before.lastSentAt !== undefined && { lastSentAt: before.lastSentAt }),
          },
          route,
        );
  if (before.token === undefined) {
    await releaseSlot();
    return run.skip(job, 'no-token');
  }
  // Meta counts the cooldown in real time from the last send, as the claim just read it.
  const earliest = earliestFor(before, verdict.page);
  if (!resumed && earliest > sendAt) {
    await releaseSlot();
    return cooldownPutBack(run, job, earliest - deps.clock.now());
  }
  const budget = await claimBudget(run, item, verdict, before.token, sentAt);
  if (budget.kind !== 'claimed') {
    await releaseSlot();
    return budget.outcome;
  }
  const release = resumed
    ? releaseSlot
    : async () => {
        await Promise.all([releaseSlot(), budget.release()]);
      };
  if (resumed) deps.log.warn('taking up a claim this message left unfinished', jobFields(job));
  return { item, verdict, token: before.token, release, resumed, sendAt, recordedAt: sentAt };
}

/**
 * Records a later send time on a claimed job whose request took a fresh token (it would have
 * left late): the claims keep the time the request truly leaves, so the next send, one
 * cooldown on, is not early at Meta. Both claims accept their own message again; the release
 * made for the first claim still restores what was there before it.
 */
export async function retimeClaim(
  run: RunContext,
  entry: Ready,
  sendAt: number,
): Promise<Ready | SendOutcome> {
  const { item, verdict } = entry;
  const { job } = item;
  // Still inside the margin the claims recorded: they already err late enough.
  if (sendAt + LATE_TOLERANCE_MS <= entry.recordedAt) return { ...entry, sendAt };
  const sentAt = sendAt + SENT_AT_MARGIN_MS;
  const claim = await run.deps.sends.claim(
    keyOf(job),
    job.slot,
    verdict.threshold,
    sentAt,
    item.record.id,
    verdict.page.deliveryRoute,
  );
  if (!claim.claimed) return run.skip(job, 'already-claimed');
  const budget = await claimBudget(run, item, verdict, entry.token, sentAt);
  if (budget.kind !== 'claimed') {
    await entry.release();
    return budget.outcome;
  }
  return { ...entry, sendAt, recordedAt: sentAt };
}

/**
 * Spends the person's Marketing Message budget on a claimed job (the legacy route has none: its
 * tokens are per topic). Taken after the slot, so a crash in between leaves a slot this
 * message takes up again, never a budget spent on nothing; another send holding the budget
 * skips the job, or puts it back until the budget is free.
 */
async function claimBudget(
  run: RunContext,
  { job, record }: Item,
  { page }: SendVerdict,
  token: string,
  sentAt: number,
): Promise<
  { kind: 'claimed'; release: () => Promise<void> } | { kind: 'refused'; outcome: SendOutcome }
> {
  if (page.deliveryRoute !== 'marketing_messages') {
    return { kind: 'claimed', release: () => Promise.resolve() };
  }
  const { sends, clock } = run.deps;
  const person = { pageId: job.pageId, psid: job.psid };
  const claim = { sentAt, slot: job.slot, topicId: job.topicId, claimedBy: record.id };
  const result = await sends.claimBudget(person, token, claim, sentAt - PERSON_BUDGET_MS);
  if (result.claimed) {
    return {
      kind: 'claimed',
      release: () => sends.releaseBudget(person, token, claim, result.before),
    };
  }
  const verdict = budgetVerdict(result.current, job, record.id);
  if (verdict.kind === 'go' && verdict.freeAt > 0) {
    return { kind: 'refused', outcome: cooldownPutBack(run, job, verdict.freeAt - clock.now()) };
  }
  const detail = verdict.kind === 'skip' ? verdict.detail : 'another send holds it';
  return { kind: 'refused', outcome: run.skip(job, 'person-budget', detail) };
}

/** Sends one claimed job and records what came of it. */
export async function sendClaimed(run: RunContext, entry: Ready): Promise<SendOutcome> {
  const { deps } = run;
  const { item, verdict, token, release, resumed } = entry;
  const { job } = item;
  const { page, topic } = verdict;
  const result = await deps.graph.send(graphRequestFor(page, token, topic));
  const now = deps.clock.now();
  if (result.kind !== 'unanswered') run.press(page.pageId, usagePressure(result.usage, now));
  if (resumed && result.kind === 'refused' && classifyRefusal(result).outcome === 'cooldown') {
    // The unfinished attempt reached Meta, whose cooldown now refuses a second one.
    deps.log.warn('an unfinished claim had reached Meta; counted as sent', jobFields(job));
    run.count(job, 'sent');
    return { kind: 'sent', job, confirmed: false };
  }
  if (result.kind === 'accepted' || (result.kind === 'unanswered' && result.requestLeft)) {
    const confirmed = result.kind === 'accepted';
    if (!confirmed) {
      // It may have reached Meta, whose cooldown would refuse a second one: the slot is spent.
      deps.log.warn('send unanswered after the request left; counted as sent', {
        ...jobFields(job),
        cause: result.cause,
      });
    }
    // The claims already recorded the slot, the send time and the budget: nothing more to write.
    const messageId = result.kind === 'accepted' ? result.messageId : undefined;
    const sentAt = entry.recordedAt;
    const editionDate = run.editionDates.get(sendJobId(job));
    const tracked = trackedSendFor(page, { ...keyOf(job), token, sentAt, editionDate }, messageId);
    if (tracked) run.tracked.push(tracked);
    run.count(job, 'sent');
    deps.log.debug('sent', { ...jobFields(job), confirmed, ...(messageId && { messageId }) });
    return { kind: 'sent', job, confirmed, ...(messageId && { messageId }) };
  }
  // Refused or surely not delivered: the slot does not count as sent.
  await release();
  if (result.kind === 'unanswered') {
    return retryTransient(run, item, `no connection to Meta (${result.cause})`);
  }
  return applyRefusal(run, { ...item, token }, verdict, result, now);
}

/** Turns a refusal into state: put-back, subscription status, paused Page or failure. */
async function applyRefusal(
  run: RunContext,
  item: Item & { token: string },
  { page, subscription }: SendVerdict,
  result: Refusal,
  now: number,
): Promise<SendOutcome> {
  const { deps } = run;
  const { job, token } = item;
  const verdict = refusalVerdict(result, { page, subscription, now, options: run.options });
  deps.log.warn('meta refused a send', {
    ...jobFields(job),
    outcome: verdict.outcome,
    status: result.status,
    ...errorFields(result.error),
    // An error Recurrent does not know is logged raw, Meta's message too, to be taught.
    ...(verdict.outcome === 'unknown' &&
      result.error?.message !== undefined && { metaMessage: result.error.message }),
  });
  const person = { pageId: job.pageId, psid: job.psid };
  switch (verdict.kind) {
    case 'defer':
      if (verdict.reason === 'meta-cooldown') {
        if (job.broadcastId !== undefined) return cooldownPutBack(run, job, verdict.retryAt - now);
        run.count(job, 'deferred');
        return run.defer(job, verdict.reason, Math.max(0, verdict.retryAt - now));
      }
      // Every send of the Page waits for Meta's rate limit; the put-backs spread out after it.
      run.press(page.pageId, { kind: 'stop', until: verdict.retryAt });
      run.count(job, 'deferred');
      return run.defer(job, verdict.reason, jittered(verdict.retryAt - now, deps.random()));
    case 'mark':
      // A dead or stopped MM token is so for every topic of the person that holds it.
      if (verdict.everyHolder) {
        await deps.subscriptions.markHolders(person, token, verdict.status, verdict.reason);
      } else {
        await deps.subscriptions.markStatus(keyOf(job), verdict.status, verdict.reason);
      }
      run.count(job, 'failed');
      return { kind: 'refused', job, action: verdict.status, reason: verdict.reason };
    case 'skip':
      return run.skip(job, verdict.reason, verdict.detail);
    case 'cap':
      // Meta asks not to retry a capped person at once: none of their topics until then.
      await deps.subscriptions.capHolders(person, token, verdict.until);
      run.count(job, 'fcap');
      return run.skip(job, 'frequency-capped', verdict.reason);
    case 'hold-page':
      return holdPage(run, job, verdict.until, verdict.reason);
    case 'pause-page':
      return pausePage(run, job, verdict.reason);
    case 'transient':
      return retryTransient(run, item, verdict.reason);
    case 'fail':
      run.count(job, 'failed');
      deps.log.error('send failed', { ...jobFields(job), reason: verdict.reason });
      throw new SendFailedError(verdict.reason);
  }
}

/** Puts a job back with backoff after a transient failure, or fails it past its attempts. */
function retryTransient(run: RunContext, { job, record }: Item, reason: string): SendOutcome {
  if (record.receiveCount < run.options.maxAttempts) {
    run.count(job, 'deferred');
    return run.defer(job, 'transient', transientBackoff(record.receiveCount, run.deps.random()));
  }
  run.count(job, 'failed');
  const message = `${reason}; gave up after ${record.receiveCount} attempts`;
  run.deps.log.error('send failed', { ...jobFields(job), reason: message });
  throw new SendFailedError(message);
}

/** Stops every send of a Page until an operator acts, and refuses this job for it. */
export async function pausePage(
  run: RunContext,
  job: SendJob,
  reason: string,
): Promise<SendOutcome> {
  const { deps } = run;
  // An operator must act: this is the alert.
  deps.log.error(PAGE_PAUSED_LOG_MESSAGE, { pageId: job.pageId, reason });
  await deps.sends.pausePage(job.pageId, reason, deps.clock.now());
  run.count(job, 'failed');
  return { kind: 'refused', job, action: 'page-paused', reason };
}

/** Holds a Page's MM sends until `until` and puts this job back until then; not a failure. */
async function holdPage(
  run: RunContext,
  job: SendJob,
  until: number,
  reason: string,
): Promise<SendOutcome> {
  const { deps } = run;
  // An operator may have to act (a campaign to start, a budget to raise): this is the alarm.
  deps.log.error(PAGE_HELD_LOG_MESSAGE, {
    pageId: job.pageId,
    heldUntil: new Date(until).toISOString(),
    reason,
  });
  await deps.sends.holdPage(job.pageId, until, reason);
  run.count(job, 'deferred');
  return run.defer(job, 'page-held', jittered(until - deps.clock.now(), deps.random()));
}

/** Meta's error fields for a log line (never its message, which may quote what was sent). */
function errorFields(error: GraphError | undefined) {
  if (!error) return {};
  return {
    code: error.code,
    ...(error.subcode !== undefined && { subcode: error.subcode }),
    ...(error.type !== undefined && { type: error.type }),
    ...(error.fbtraceId !== undefined && { fbtraceId: error.fbtraceId }),
  };
}
