import type { StatsCounter, StatsIncrement } from './ports.ts';

/** The UTC day of an instant, as stats are keyed. */
export function statsDay(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}

/** Sums counters in memory so a batch of events costs one write per topic and day. */
export function createStatsTally() {
  const tally = new Map<string, StatsIncrement>();
  return {
    count(pageId: string, topicId: string, at: number, counter: StatsCounter, by = 1): void {
      const day = statsDay(at);
      const id = `${pageId}#${topicId}#${day}`;
      const entry = tally.get(id) ?? { pageId, topicId, day, counts: {} };
      entry.counts[counter] = (entry.counts[counter] ?? 0) + by;
      tally.set(id, entry);
    },
    increments(): StatsIncrement[] {
      return [...tally.values()];
    },
    /** Every counter summed over topics and days: the `stats counted` log line's fields. */
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
