import { DateTime } from 'luxon';
import * as z from 'zod';
import { mapWithConcurrency } from '../../concurrency.ts';
import type { EditionResult, EditionResults } from '../editions/edition-results.ts';
import { InvalidInputError } from '../errors.ts';
import { idSchema } from '../ids.ts';
import { STATS_COUNTERS, type StatsCounter } from '../ports.ts';
import { statsDay, UNMATCHED_TOPIC } from '../stats.ts';
import { type AdminRequest, parseInput } from './input.ts';
import type { AdminCatalog, StatsReader } from './ports.ts';

const DEFAULT_DAYS = 30;
const MAX_DAYS = 366;

const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date yyyy-mm-dd')
  .refine((value) => DateTime.fromISO(value, { zone: 'utc' }).isValid, 'is not a calendar date');

const statsQuerySchema = z.strictObject({
  pageId: idSchema('Page id'),
  topicId: idSchema('topic id').optional(),
  from: day.optional(),
  to: day.optional(),
});

export type StatsInput = z.infer<typeof statsQuerySchema>;

/** Reads `GET /admin/stats?pageId=&topicId=&from=&to=`. */
export function parseStats(request: AdminRequest): StatsInput {
  return parseInput(statsQuerySchema, request.query);
}

export type Counters = Record<StatsCounter, number>;

export interface StatsReport {
  pageId: string;
  topicId: string | null;
  from: string;
  to: string;
  /** Every day of the range (UTC), summed over the topics, zeros included. */
  days: (Counters & { day: string })[];
  totals: Counters;
  /** Each topic's totals over the range. */
  topics: { topicId: string; totals: Counters }[];
  /** With a topic: what came of its editions (by local date) from `from` to `to`. */
  editions?: EditionResult[];
}

/**
 * Daily counters of one topic, or of every topic of the Page (and the statuses no topic could
 * be found for), from `from` to `to`: by default the 30 days up to today (UTC).
 */
export async function readStats(
  input: StatsInput,
  deps: {
    catalog: AdminCatalog;
    stats: StatsReader;
    clock: { now(): number };
    editionResults?: EditionResults;
  },
): Promise<StatsReport> {
  const to = input.to ?? statsDay(deps.clock.now());
  const from = input.from ?? shiftDay(to, -(DEFAULT_DAYS - 1));
  if (from > to) throw new InvalidInputError(`from: ${from} is after to (${to})`);
  const span = dayCount(from, to);
  if (span > MAX_DAYS) {
    throw new InvalidInputError(`from: the range is ${span} days; at most ${MAX_DAYS}`);
  }
  const topicIds =
    input.topicId !== undefined
      ? [input.topicId]
      : [
          ...(await deps.catalog.listTopics(input.pageId)).map((topic) => topic.topicId).sort(),
          UNMATCHED_TOPIC,
        ];
  const [perTopic, editions] = await Promise.all([
    mapWithConcurrency(topicIds, 8, (topicId) =>
      deps.stats.readDays(input.pageId, topicId, from, to),
    ),
    input.topicId === undefined
      ? undefined
      : deps.editionResults?.read(input.pageId, input.topicId, from, to),
  ]);
  const days = new Map<string, Counters>();
  for (let index = 0; index < span; index++) days.set(shiftDay(from, index), zeros());
  const totals = zeros();
  const topics = topicIds.map((topicId, index) => {
    const topicTotals = zeros();
    for (const entry of perTopic[index] ?? []) {
      const daily = days.get(entry.day);
      for (const counter of STATS_COUNTERS) {
        const value = entry.counts[counter] ?? 0;
        topicTotals[counter] += value;
        totals[counter] += value;
        if (daily) daily[counter] += value;
      }
    }
    return { topicId, totals: topicTotals };
  });
  return {
    pageId: input.pageId,
    topicId: input.topicId ?? null,
    from,
    to,
    days: [...days].map(([dayId, counters]) => ({ day: dayId, ...counters })),
    totals,
    // Without a topic, the unmatched statuses show only when there were some.
    topics: topics.filter(
      (topic) =>
        topic.topicId !== UNMATCHED_TOPIC ||
        input.topicId !== undefined ||
        STATS_COUNTERS.some((counter) => topic.totals[counter] > 0),
    ),
    ...(editions && { editions }),
  };
}

function zeros(): Counters {
  return Object.fromEntries(STATS_COUNTERS.map((counter) => [counter, 0])) as Counters;
}

function shiftDay(dayId: string, days: number): string {
  return DateTime.fromISO(dayId, { zone: 'utc' }).plus({ days }).toISODate() ?? dayId;
}

function dayCount(from: string, to: string): number {
  const start = DateTime.fromISO(from, { zone: 'utc' });
  const end = DateTime.fromISO(to, { zone: 'utc' });
  return Math.round(end.diff(start, 'days').days) + 1;
}
