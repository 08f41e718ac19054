import type { SubscriptionEffect } from '../meta-errors.ts';
import {
  type BreakerStart,
  STOP_THRESHOLD_DEFAULT,
  type Topic,
  type TopicPause,
} from '../topic.ts';

const HOUR_MS = 3_600_000;
/** The breaker looks at the last 24 hourly buckets, the current one included. */
export const WINDOW_HOURS = 24;
/**
 * Below this many sends in the window a few stops say nothing about the topic: the breaker
 * only judges a topic that sent at least this much.
 */
export const MIN_SENDS = 200;

/** One topic's counts in one UTC hour. */
export interface HourBucket {
  /** Hours since the epoch (`hourOf`). */
  hour: number;
  sends: number;
  stops: number;
}

/** Sends and stops over the window. */
export interface WindowTotals {
  sends: number;
  stops: number;
}

/** The hour bucket an instant falls in: whole hours since the epoch. */
export function hourOf(epochMs: number): number {
  return Math.floor(epochMs / HOUR_MS);
}

/** The first and last hour of the window that ends with the hour of `now`. */
export function windowHours(now: number): { from: number; to: number } {
  const to = hourOf(now);
  return { from: to - WINDOW_HOURS + 1, to };
}

/**
 * Sums the buckets inside the window ending at `now`. After a resume only what came later
 * counts: earlier hours are left out, and the resume's own hour counts what it gained since.
 */
export function windowTotals(
  buckets: readonly HourBucket[],
  now: number,
  since?: BreakerStart,
): WindowTotals {
  const { from, to } = windowHours(now);
  const sinceHour = since === undefined ? from : Math.max(from, hourOf(since.at));
  const totals: WindowTotals = { sends: 0, stops: 0 };
  for (const bucket of buckets) {
    if (bucket.hour < sinceHour || bucket.hour > to) continue;
    const resumedIn = since !== undefined && bucket.hour === hourOf(since.at);
    totals.sends += Math.max(0, bucket.sends - (resumedIn ? since.sends : 0));
    totals.stops += Math.max(0, bucket.stops - (resumedIn ? since.stops : 0));
  }
  return totals;
}

/** A topic's threshold, as stored or by default, in percent. */
export function stopThresholdOf(topic: Pick<Topic, 'stopThreshold'>): number {
  return topic.stopThreshold ?? STOP_THRESHOLD_DEFAULT;
}

/** What the breaker makes of a window: trip, with the numbers, or not. */
export type StopSpikeVerdict =
  | { trip: false; ratePercent: number }
  | { trip: true; ratePercent: number; reason: string };

/**
 * Trips when the window holds at least `MIN_SENDS` sends and its stops are above
 * `thresholdPercent` of them; exactly at the threshold it holds.
 */
export function stopSpikeVerdict(totals: WindowTotals, thresholdPercent: number): StopSpikeVerdict {
  const ratePercent = totals.sends === 0 ? 0 : (totals.stops * 100) / totals.sends;
  // Compared without the division, so 6 of 200 is exactly 3 % and does not trip at 3.
  const over = totals.stops * 100 > thresholdPercent * totals.sends;
  if (totals.sends < MIN_SENDS || !over) return { trip: false, ratePercent };
  const reason = `${totals.stops} stops and blocks over ${totals.sends} sends in ${WINDOW_HOURS} h (${round(ratePercent)} %), above the topic's ${thresholdPercent} %`;
  return { trip: true, ratePercent, reason };
}

/** The pause a tripped verdict writes on the topic. */
export function topicPauseOf(
  totals: WindowTotals,
  verdict: Extract<StopSpikeVerdict, { trip: true }>,
  thresholdPercent: number,
  at: number,
): TopicPause {
  return {
    at,
    reason: verdict.reason,
    sends: totals.sends,
    stops: totals.stops,
    ratePercent: round(verdict.ratePercent),
    thresholdPercent,
  };
}

/**
 * Whether a refusal's effect on the subscription is a person turning away from the Page: a
 * stop (2300034, 10/1893015) or a block or unreachable person (551, 200/1545041), as the Meta
 * error table (`meta-errors.ts`) names them. A dead token is no one's choice and does not count.
 */
export function isStopOrBlock(effect: SubscriptionEffect): boolean {
  return effect === 'stopped' || effect === 'unreachable';
}

/** What a topic's save keeps of the breaker's state: its pause and where its window starts. */
export function keptBreakerState(
  stored: Pick<Topic, 'paused' | 'breakerSince'> | undefined,
): Pick<Topic, 'paused' | 'breakerSince'> {
  return {
    ...(stored?.paused && { paused: stored.paused }),
    ...(stored?.breakerSince && { breakerSince: stored.breakerSince }),
  };
}

function round(percent: number): number {
  return Math.round(percent * 100) / 100;
}
