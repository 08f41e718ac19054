import * as z from 'zod';
import { marketingCounts } from '../safety/conversation-counts.ts';
import { activityOfAnswers, watchTopics } from '../safety/watch-topics.ts';
import { parseSendJob, type SendJob } from '../send-job.ts';
import { logStatsLine } from '../stats.ts';
import { subscriptionId } from '../subscription.ts';
import {
  broadcastVerdict,
  countBroadcasts,
  mergeGroups,
  withBroadcasts,
} from './broadcast-jobs.ts';
import { claimFor, pausePage, retimeClaim, sendClaimed } from './claim-and-send.ts';
import { noteEditionDates, withEditions } from './edition-messages.ts';
import {
  iso,
  isStale,
  type JobVerdict,
  judgeJob,
  type SendVerdict,
  safetyAnswers,
} from './judge-job.ts';
import { loadJobs, topicKey } from './load-jobs.ts';
import { sendForPage } from './page-pacing.ts';
import { DEFAULT_SENDER_OPTIONS, type SenderDeps, type SenderOptions } from './ports.ts';
import {
  createRunContext,
  errorName,
  type Item,
  jobFields,
  type Ready,
  type RunContext,
} from './run-context.ts';
import {
  PoisonJobError,
  SendFailedError,
  type SendOutcome,
  type SendRecord,
} from './send-outcome.ts';

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
  const run = createRunContext(deps, options);
  try {
    for (const [index, outcome] of await process(run, items)) outcomes[index] = outcome;
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
  await finish(run, records, outcomes);
  deps.log.info(BATCH_LOG_MESSAGE, summarise(outcomes));
  return outcomes;
}

/** The sender's one info line per batch: what came of its jobs, by kind and reason. */
export const BATCH_LOG_MESSAGE = 'send batch';

/**
 * Counts a batch's outcomes for its summary line: sent, skipped and deferred (by reason),
 * refused, and retried (a rejected record: it stays on the queue), with the Pages it held.
 */
export function summarise(outcomes: readonly PromiseSettledResult<SendOutcome>[]) {
  const skipped: Record<string, number> = {};
  const deferred: Record<string, number> = {};
  const pages = new Set<string>();
  let sent = 0;
  let refused = 0;
  let retried = 0;
  for (const outcome of outcomes) {
    if (outcome.status === 'rejected') {
      retried++;
      continue;
    }
    const value = outcome.value;
    pages.add(value.job.pageId);
    if (value.kind === 'sent') sent++;
    else if (value.kind === 'refused') refused++;
    else if (value.kind === 'skipped') skipped[value.reason] = (skipped[value.reason] ?? 0) + 1;
    else deferred[value.reason] = (deferred[value.reason] ?? 0) + 1;
  }
  return { jobs: outcomes.length, pages: pages.size, sent, skipped, deferred, refused, retried };
}

type Results = Map<number, PromiseSettledResult<SendOutcome>>;

/**
 * Judges every fresh job from what was loaded, settles those that need no send at once, pauses
 * each Page that must stop once, and sends the rest Page by Page.
 */
async function process(run: RunContext, items: readonly Item[]): Promise<Results> {
  const { clock, log } = run.deps;
  const outcomes: Results = new Map();
  const done = (item: Item, value: SendOutcome) =>
    outcomes.set(item.index, { status: 'fulfilled', value });
  const now = clock.now();
  const fresh = items.filter((item) => {
    if (!isStale(item.job, now, run.options.staleAfterMs)) return true;
    done(item, run.skip(item.job, 'stale', `scheduled ${iso(item.job.scheduledTime)}`));
    return false;
  });
  if (fresh.length === 0) return outcomes;
  const loaded = await loadJobs(
    run,
    fresh.map((item) => item.job),
  );
  noteEditionDates(
    run,
    // A broadcast's job sends the broadcast, no edition: its counts go to the broadcast.
    fresh.map((item) => item.job).filter((job) => job.broadcastId === undefined),
    loaded,
  );
  const toSend = new Map<string, { item: Item; verdict: SendVerdict }[]>();
  const toPause = new Map<string, { items: Item[]; reason: string }>();
  for (const item of fresh) {
    const { job } = item;
    let verdict: JobVerdict;
    try {
      const subscription = loaded.subscriptions.get(subscriptionId(job));
      verdict = judgeJob(
        job,
        {
          page: loaded.pages.get(job.pageId),
          topic: loaded.topics.get(topicKey(job)),
          subscription,
          person: loaded.people.get(subscriptionId(job)),
        },
        now,
        run.options,
        item.record.id,
      );
      verdict = broadcastVerdict(job, verdict, subscription, now);
    } catch (error: unknown) {
      outcomes.set(item.index, { status: 'rejected', reason: error });
      continue;
    }
    if (verdict.kind === 'skip') {
      done(item, run.skip(job, verdict.reason, verdict.detail));
    } else if (verdict.kind === 'defer') {
      run.count(job, 'deferred');
      done(item, run.defer(job, verdict.reason, verdict.delayMs));
    } else if (verdict.kind === 'fail') {
      log.error('send failed', { ...jobFields(job), reason: verdict.reason });
      run.count(job, 'failed');
      outcomes.set(item.index, { status: 'rejected', reason: new SendFailedError(verdict.reason) });
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
  // The message of each job's edition (or none for a topic that skips dates without one).
  const broadcasts = await withBroadcasts(run, toSend);
  for (const item of broadcasts.skipped) done(item, run.skip(item.job, 'broadcast-cancelled'));
  const edited = await withEditions(run, broadcasts.slots);
  for (const { item, date } of edited.skipped) {
    done(item, run.skip(item.job, 'no-edition', `no edition for ${date}`));
  }
  const steps = {
    claim: (item: Item, verdict: SendVerdict, sendAt: number) =>
      claimFor(run, item, verdict, sendAt),
    send: (entry: Ready) => sendClaimed(run, entry),
    retime: (entry: Ready, sendAt: number) => retimeClaim(run, entry, sendAt),
  };
  await Promise.all([
    ...[...toPause.values()].map((pause) => pauseAll(run, pause, outcomes)),
    ...[...mergeGroups(edited.groups, broadcasts.groups).values()].map(async (group) => {
      const results = await sendForPage(run, group, steps);
      for (const [position, { item }] of group.entries()) {
        const result = results[position];
        if (result) outcomes.set(item.index, result);
      }
    }),
  ]);
  return outcomes;
}

/** Pauses one Page once for all its jobs that found it must stop, and refuses each of them. */
async function pauseAll(
  run: RunContext,
  { items, reason }: { items: Item[]; reason: string },
  outcomes: Results,
): Promise<void> {
  const [first] = items;
  if (!first) return;
  const [result] = await Promise.allSettled([pausePage(run, first.job, reason)]);
  for (const item of items) {
    if (result?.status === 'fulfilled') {
      if (item !== first) run.count(item.job, 'failed');
      outcomes.set(item.index, {
        status: 'fulfilled',
        value: { kind: 'refused', job: item.job, action: 'page-paused', reason },
      });
    } else {
      outcomes.set(item.index, { status: 'rejected', reason: result?.reason });
    }
  }
}

/** Puts deferred jobs back, adds the batch's counters and applies Meta's usage reports. */
async function finish(
  run: RunContext,
  records: readonly SendRecord[],
  outcomes: readonly PromiseSettledResult<SendOutcome>[],
): Promise<void> {
  const { deps, tally } = run;
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
        // Metric filters on this line feed the dashboard's sends, deferrals and failures.
        logStatsLine(deps.log, tally.totals(), 'sender');
      },
    ],
    [
      'tracked sends',
      // Lost here, a send's statuses count as unmatched: the send itself is done.
      () =>
        run.tracked.length && deps.tracked ? deps.tracked.record(run.tracked) : Promise.resolve(),
    ],
    [
      'conversations',
      // Lost here, the forecast undercounts our messages for a week: the sends are done.
      () =>
        run.tracked.length && deps.conversations
          ? deps.conversations.add(marketingCounts(run.tracked))
          : Promise.resolve(),
    ],
    [
      'safety',
      () =>
        deps.safety
          ? watchTopics(activityOfAnswers(safetyAnswers(outcomes)), {
              safety: deps.safety,
              topicOf: (pageId, topicId) => deps.catalog.getTopic(pageId, topicId),
              clock: deps.clock,
              log: deps.log,
            })
          : Promise.resolve(),
    ],
    ['broadcasts', () => countBroadcasts(run, outcomes)],
    ...[...run.pressures].map(([pageId, pressure]): [string, () => Promise<void>] => [
      `pressure ${pageId}`,
      () => deps.rate.applyPressure(pageId, pressure),
    ]),
  ];
  await Promise.all(
    steps.map(async ([step, apply]) => {
      try {
        await apply();
      } catch (error: unknown) {
        // Deferred jobs still come back (after the queue's own visibility timeout).
        deps.log.error('sender batch step failed', {
          step,
          error: errorName(error),
          ...(step === 'stats' && { counts: tally.increments() }),
        });
      }
    }),
  );
}

/** The job in a record's body, or why it is none (never echoing the body). */
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
