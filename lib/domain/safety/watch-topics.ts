import type { Clock } from '../../clock.ts';
import type { Log } from '../../log.ts';
import type { Catalog, StatsIncrement } from '../ports.ts';
import { TOPIC_PAUSED_LOG_MESSAGE } from '../stats.ts';
import type { BreakerStart, Topic, TopicPause } from '../topic.ts';
import {
  type HourBucket,
  hourOf,
  stopSpikeVerdict,
  stopThresholdOf,
  topicPauseOf,
  windowHours,
  windowTotals,
} from './stop-spike.ts';

/** Sends and stops one batch or delivery saw for one topic. */
export interface TopicActivity {
  pageId: string;
  topicId: string;
  sends: number;
  stops: number;
}

/** The breaker's storage: a topic's hourly counts, and its pause. */
export interface TopicSafetyStore {
  /** Adds each activity's counts to its topic's bucket of `hour`. */
  add(hour: number, activity: readonly TopicActivity[]): Promise<void>;
  /** The topic's buckets from hour `from` to hour `to`, both included. */
  readHours(pageId: string, topicId: string, from: number, to: number): Promise<HourBucket[]>;
  /** Pauses the topic unless it is paused already or gone; true when this call paused it. */
  pauseTopic(pageId: string, topicId: string, pause: TopicPause): Promise<boolean>;
  /**
   * Lifts the pause and starts the breaker's window at `since`; the pause it lifted, or
   * undefined when the topic was not paused. Throws nothing for a missing topic: the caller checks.
   */
  resumeTopic(
    pageId: string,
    topicId: string,
    since: BreakerStart,
  ): Promise<TopicPause | undefined>;
}

export interface WatchDeps {
  safety: TopicSafetyStore;
  /** The topic as stored now (its threshold, its pause, where its window starts). */
  topicOf: (pageId: string, topicId: string) => Promise<Topic | undefined>;
  clock: Clock;
  log: Log;
}

/**
 * Counts what a batch or a delivery saw in the current hour, then judges each topic it touched
 * over its last 24 h: one above its threshold pauses, and the first to pause it raises the
 * alarm (`TOPIC_PAUSED_LOG_MESSAGE`). A topic already paused is left as it is.
 */
export async function watchTopics(
  activity: readonly TopicActivity[],
  deps: WatchDeps,
): Promise<void> {
  const touched = activity.filter((entry) => entry.sends > 0 || entry.stops > 0);
  if (touched.length === 0) return;
  const now = deps.clock.now();
  await deps.safety.add(hourOf(now), touched);
  await Promise.all(touched.map((entry) => judgeTopic(entry, now, deps)));
}

async function judgeTopic(
  { pageId, topicId }: TopicActivity,
  now: number,
  deps: WatchDeps,
): Promise<void> {
  const topic = await deps.topicOf(pageId, topicId);
  if (!topic || topic.paused) return;
  const { from, to } = windowHours(now);
  const buckets = await deps.safety.readHours(pageId, topicId, from, to);
  const totals = windowTotals(buckets, now, topic.breakerSince);
  const threshold = stopThresholdOf(topic);
  const verdict = stopSpikeVerdict(totals, threshold);
  if (!verdict.trip) return;
  const pause = topicPauseOf(totals, verdict, threshold, now);
  if (!(await deps.safety.pauseTopic(pageId, topicId, pause))) return;
  // An operator must look at the topic before it sends again: this is the alarm.
  deps.log.error(TOPIC_PAUSED_LOG_MESSAGE, { pageId, topicId, ...pause });
}

/** Adds activity entries of the same topic together. */
export function sumActivity(entries: readonly TopicActivity[]): TopicActivity[] {
  const sums = new Map<string, TopicActivity>();
  for (const entry of entries) {
    const id = `${entry.pageId}#${entry.topicId}`;
    const sum = sums.get(id) ?? {
      pageId: entry.pageId,
      topicId: entry.topicId,
      sends: 0,
      stops: 0,
    };
    sum.sends += entry.sends;
    sum.stops += entry.stops;
    sums.set(id, sum);
  }
  return [...sums.values()];
}

/** What a sender batch's outcomes add to each topic's counts: one per job answered. */
export interface SendAnswer {
  pageId: string;
  topicId: string;
  /** The request reached Meta: accepted, unanswered after it left, or refused. */
  sent: boolean;
  /** Meta's refusal was a stop or a block (`isStopOrBlock`). */
  stopped: boolean;
}

/** Each topic's sends and stops in a batch's answers; a stop or block was a send too. */
export function activityOfAnswers(answers: readonly SendAnswer[]): TopicActivity[] {
  return sumActivity(
    answers.map(({ pageId, topicId, sent, stopped }) => ({
      pageId,
      topicId,
      sends: sent || stopped ? 1 : 0,
      stops: stopped ? 1 : 0,
    })),
  );
}

/**
 * Feeds the stops a webhook delivery counted to the breaker. Best effort: the events are
 * applied already, and failing the delivery would count them twice on Meta's retry; a failure
 * is logged for the operator instead.
 */
export async function watchStops(
  increments: readonly StatsIncrement[],
  deps: Omit<WatchDeps, 'topicOf'> & { catalog: Pick<Catalog, 'getTopic'> },
): Promise<void> {
  const activity = increments.map(({ pageId, topicId, counts }) => ({
    pageId,
    topicId,
    sends: 0,
    stops: counts.stops ?? 0,
  }));
  try {
    await watchTopics(sumActivity(activity), {
      ...deps,
      topicOf: (pageId, topicId) => deps.catalog.getTopic(pageId, topicId),
    });
  } catch (error: unknown) {
    deps.log.error('stops not counted for the stop-spike breaker', {
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
  }
}
