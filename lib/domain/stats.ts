import type { Log } from '../log.ts';
import type { SkipCounter, StatsCounter, StatsIncrement } from './ports.ts';

/**
 * The log line the webhook (once per delivery) and the sender (once per batch) write with the
 * counters they added to the stats items: `{"message":"stats counted","sent":3,"failed":1}`.
 * The dashboard's metric filters (`cdk/monitoring.ts`) match this message: change both at once.
 */
export const STATS_LOG_MESSAGE = 'stats counted';

/** The functions whose `STATS_LOG_MESSAGE` lines feed metrics. */
export type CountingFunction = 'webhook' | 'sender';

/** Each counter of a `stats counted` line that becomes a metric, and which logs carry it. */
export const COUNTED_METRICS: readonly {
  field: StatsCounter;
  metricName: string;
  from: readonly CountingFunction[];
}[] = [
  { field: 'optins', metricName: 'OptIns', from: ['webhook'] },
  { field: 'stops', metricName: 'Stops', from: ['webhook'] },
  { field: 'resumes', metricName: 'Resumes', from: ['webhook'] },
  { field: 'sent', metricName: 'Sent', from: ['sender'] },
  { field: 'deferred', metricName: 'Deferred', from: ['sender'] },
  { field: 'failed', metricName: 'Failed', from: ['webhook', 'sender'] },
];

/**
 * The level of a `STATS_LOG_MESSAGE` line: info when it carries a counter a metric of `from`
 * reads, else debug (none for no counters). A delivery of marketing statuses counts only
 * deliveries, reads and clicks: they are in the stats items, and its info line was about 40 %
 * of the webhook's log bytes per status event.
 */
export function statsLineLevel(
  totals: Partial<Record<StatsCounter, number>>,
  from: CountingFunction,
): 'info' | 'debug' | undefined {
  if (Object.keys(totals).length === 0) return undefined;
  const metric = COUNTED_METRICS.some(
    ({ field, from: carriers }) => carriers.includes(from) && (totals[field] ?? 0) > 0,
  );
  return metric ? 'info' : 'debug';
}

/** Writes a delivery's or a batch's `STATS_LOG_MESSAGE` line at its `statsLineLevel`. */
export function logStatsLine(
  log: Log,
  totals: Partial<Record<StatsCounter, number>>,
  from: CountingFunction,
): void {
  const level = statsLineLevel(totals, from);
  if (level) log[level](STATS_LOG_MESSAGE, totals);
}

/** The sender's log line when a Page-level Meta error stops every send of a Page (an alarm). */
export const PAGE_PAUSED_LOG_MESSAGE = 'page paused';

/**
 * The sender's log line when Meta holds a Page's Marketing Message sends for a while (campaign
 * not ready, budget spent): an alarm, as an operator may have to act.
 */
export const PAGE_HELD_LOG_MESSAGE = 'page held';

/**
 * The sender's and the webhook's log line when the stop-spike breaker pauses a topic (an
 * alarm): stops and blocks over its sends in 24 h went above its threshold.
 */
export const TOPIC_PAUSED_LOG_MESSAGE = 'topic paused';

/**
 * The stats "topic" where the webhook counts, per Page and day, marketing statuses no kept send
 * joins (`unmatched`). A topic of that id would share its item (as `_unknown` did before).
 */
export const UNMATCHED_TOPIC = '_unmatched';

/** The UTC day of an instant, as stats are keyed. */
export function statsDay(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}

/** Sums counters in memory so a batch of events costs one write per topic and day. */
export function createStatsTally() {
  const tally = new Map<string, StatsIncrement>();
  const editions = new Map<string, StatsIncrement>();
  return {
    count(pageId: string, topicId: string, at: number, counter: StatsCounter, by = 1): void {
      const day = statsDay(at);
      const id = `${pageId}#${topicId}#${day}`;
      const entry = tally.get(id) ?? { pageId, topicId, day, counts: {} };
      entry.counts[counter] = (entry.counts[counter] ?? 0) + by;
      tally.set(id, entry);
    },
    increments(): StatsIncrement[] {
      return [...tally.values(), ...editions.values()];
    },
    /** Counts one counter on the edition of a topic for local date `date` (`yyyy-mm-dd`). */
    countEdition(
      pageId: string,
      topicId: string,
      date: string,
      counter: StatsCounter | SkipCounter,
    ): void {
      const id = `${pageId}#${topicId}#${date}`;
      const entry = editions.get(id) ?? { pageId, topicId, day: date, counts: {}, edition: true };
      entry.counts[counter] = (entry.counts[counter] ?? 0) + 1;
      editions.set(id, entry);
    },
    /**
     * Every counter summed over topics and days: the fields of the `STATS_LOG_MESSAGE` line
     * (an edition's counts are the same sends again, so they are left out).
     */
    totals(): Partial<Record<StatsCounter, number>> {
      const totals: Partial<Record<StatsCounter, number>> = {};
      for (const { counts } of tally.values()) {
        for (const [counter, by] of Object.entries(counts) as [StatsCounter, number][]) {
          totals[counter] = (totals[counter] ?? 0) + by;
        }
      }
      return totals;
    },
  };
}

/** The counter of an edition's skips for one reason (`person-budget` as `skipped_person_budget`). */
export function skipCounter(reason: string): SkipCounter {
  return `skipped_${reason.replaceAll('-', '_')}`;
}
