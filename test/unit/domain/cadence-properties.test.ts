import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { earliestSendAt, isEligibleInSlot } from '#lib/domain/cooldown.ts';
import type { DeliveryRoute } from '#lib/domain/page.ts';
import {
  nextSlotAfter,
  parseSendTime,
  type SlotRule,
  slotAtOrBefore,
  slotsBefore,
  slotsBetween,
} from '#lib/domain/slots.ts';
import type { Cadence } from '#lib/domain/topic.ts';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

// DST in both hemispheres, DST at midnight (Havana, Santiago), 30-minute DST (Lord Howe),
// 45-minute offsets (Kathmandu, Chatham), half-hour offsets, and zones without DST.
const ZONES = [
  'UTC',
  'Europe/Paris',
  'Europe/London',
  'America/New_York',
  'America/Los_Angeles',
  'America/St_Johns',
  'America/Havana',
  'America/Santiago',
  'Asia/Tokyo',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'Australia/Sydney',
  'Australia/Lord_Howe',
  'Pacific/Chatham',
  'Pacific/Auckland',
] as const;

/** Independent of the code under test: how many slots apart two sends must be. */
const SLOTS_PER_SEND: Record<Cadence, Record<DeliveryRoute, number>> = {
  DAILY: { send_api: 2, marketing_messages: 1 },
  WEEKLY: { send_api: 1, marketing_messages: 1 },
  MONTHLY: { send_api: 1, marketing_messages: 1 },
};

const COOLDOWN_MS: Record<DeliveryRoute, number> = {
  send_api: 48 * HOUR_MS,
  marketing_messages: 12 * HOUR_MS,
};

const HORIZON_MS: Record<Cadence, number> = {
  DAILY: 60 * DAY_MS,
  WEEKLY: 26 * 7 * DAY_MS,
  MONTHLY: 400 * DAY_MS,
};

const MAX_LATENCY_MS = 20 * MINUTE_MS;

const zoneArb = fc.constantFrom(...ZONES);

const sendTimeArb = fc.oneof(
  // Times that DST skips or repeats somewhere in ZONES.
  fc.constantFrom('00:00', '00:30', '01:30', '02:00', '02:15', '02:30', '02:50', '23:59'),
  fc
    .record({ hour: fc.integer({ min: 0, max: 23 }), minute: fc.integer({ min: 0, max: 59 }) })
    .map(({ hour, minute }) => `${pad(hour)}:${pad(minute)}`),
);

const ruleArb: fc.Arbitrary<SlotRule> = fc.record({
  cadence: fc.constantFrom<Cadence>('DAILY', 'WEEKLY', 'MONTHLY'),
  sendTime: sendTimeArb,
  weekday: fc.integer({ min: 1, max: 7 }),
  dayOfMonth: fc.integer({ min: 1, max: 28 }),
});

// Starts cluster around the months where DST changes in either hemisphere.
const startArb = fc
  .record({
    year: fc.integer({ min: 2024, max: 2027 }),
    month: fc.constantFrom(1, 2, 3, 3, 4, 6, 8, 9, 9, 10, 10, 11, 12),
    day: fc.integer({ min: 1, max: 28 }),
    minute: fc.integer({ min: 0, max: 24 * 60 - 1 }),
  })
  .map(({ year, month, day, minute }) => Date.UTC(year, month - 1, day) + minute * MINUTE_MS);

const historyArb = fc.record({
  zone: zoneArb,
  pageZone: zoneArb,
  rule: ruleArb,
  route: fc.constantFrom<DeliveryRoute>('send_api', 'marketing_messages'),
  frequency: fc.option(fc.constantFrom<Cadence>('DAILY', 'WEEKLY', 'MONTHLY'), { nil: undefined }),
  start: startArb,
  /** How many slots before the first simulated one the token was last sent (0: never). */
  previousSendSlotsBack: fc.integer({ min: 0, max: 3 }),
  /** Opt-in time relative to the start, in days. */
  activeSinceDays: fc.option(fc.integer({ min: -5, max: 20 }), { nil: undefined }),
  /** Token expiry relative to the start, in days. */
  expiresAfterDays: fc.option(fc.integer({ min: 10, max: 500 }), { nil: undefined }),
  /** Slot positions at which the fan-out did not run (an outage). */
  outages: fc.uniqueArray(fc.nat(80), { maxLength: 4 }),
  /** Time between a slot and its request leaving, cycled over the sends. */
  latencies: fc.array(fc.integer({ min: 0, max: MAX_LATENCY_MS }), { minLength: 1, maxLength: 6 }),
});

type History = typeof historyArb extends fc.Arbitrary<infer T> ? T : never;

interface Send {
  slot: number;
  sentAt: number;
}

interface Decision {
  slot: number;
  sent: boolean;
}

interface Simulation {
  /** Every slot from the previous send (if any) to the end of the horizon. */
  calendar: number[];
  previous: Send | undefined;
  decisions: Decision[];
  sends: Send[];
  activeSince: number | undefined;
  tokenExpiresAt: number | undefined;
}

/** Runs the fan-out and the sender over every slot: eligible slots send at max(slot, earliestSendAt). */
function simulate(history: History): Simulation {
  const { rule, zone, route, frequency, pageZone, start } = history;
  const end = start + HORIZON_MS[rule.cadence];
  const runSlots = slotsBetween(rule, zone, start, end);
  const firstSlot = nextSlotAfter(rule, zone, start);
  const previousSlot =
    history.previousSendSlotsBack === 0
      ? undefined
      : slotsBefore(rule, zone, firstSlot, history.previousSendSlotsBack);
  const previous =
    previousSlot === undefined
      ? undefined
      : { slot: previousSlot, sentAt: previousSlot + latencyOf(history, 0) };
  const activeSince =
    history.activeSinceDays === undefined ? undefined : start + history.activeSinceDays * DAY_MS;
  const tokenExpiresAt =
    history.expiresAfterDays === undefined ? undefined : start + history.expiresAfterDays * DAY_MS;

  const sends: Send[] = previous === undefined ? [] : [previous];
  const decisions: Decision[] = [];
  runSlots.forEach((slot, position) => {
    if (history.outages.includes(position)) {
      return;
    }
    const last = sends.at(-1);
    const eligible = isEligibleInSlot({
      slot,
      rule,
      zone,
      route,
      frequency,
      pageZone,
      lastSlot: last?.slot,
      activeSince,
      tokenExpiresAt,
    });
    decisions.push({ slot, sent: eligible });
    if (eligible) {
      const ready = slot + latencyOf(history, sends.length + 1);
      const earliest = earliestSendAt({ lastSentAt: last?.sentAt, route, frequency, pageZone });
      sends.push({ slot, sentAt: Math.max(ready, earliest) });
    }
  });
  const calendar = slotsBetween(rule, zone, (previousSlot ?? firstSlot) - 1, end);
  return { calendar, previous, decisions, sends, activeSince, tokenExpiresAt };
}

function latencyOf(history: History, index: number): number {
  return history.latencies[index % history.latencies.length] ?? 0;
}

/** The calendar week or month of the Page zone that holds an instant, computed with luxon alone. */
function calendarPeriod(frequency: Cadence | undefined, pageZone: string, instant: number): string {
  const local = DateTime.fromMillis(instant, { zone: pageZone });
  if (frequency === 'WEEKLY') {
    return `${local.weekYear}-W${local.weekNumber}`;
  }
  if (frequency === 'MONTHLY') {
    return `${local.year}-${local.month}`;
  }
  return `instant ${instant}`;
}

function startsCalendarPeriod(
  frequency: Cadence | undefined,
  pageZone: string,
  instant: number,
): boolean {
  const local = DateTime.fromMillis(instant, { zone: pageZone });
  if (frequency === 'WEEKLY') {
    return local.startOf('week').toMillis() === instant;
  }
  if (frequency === 'MONTHLY') {
    return local.startOf('month').toMillis() === instant;
  }
  return false;
}

function pairs<T>(items: T[]): [T, T][] {
  return items.slice(1).flatMap((item, i) => {
    const before = items[i];
    return before === undefined ? [] : [[before, item] as [T, T]];
  });
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function wallTime(instant: number, zone: string): string {
  return DateTime.fromMillis(instant, { zone }).toFormat('yyyy-MM-dd HH:mm');
}

// Each property walks a year of slots in luxon 150 times: a few seconds alone, several times
// that on a loaded machine, so the limit is generous. It bounds a hang, not a speed.
describe('cadence properties', { timeout: 60_000 }, () => {
  it('never sends a token twice within its route cooldown or its Page-zone calendar period', () => {
    fc.assert(
      fc.property(historyArb, (history) => {
        const { sends } = simulate(history);

        for (const [earlier, later] of pairs(sends)) {
          expect(later.sentAt - earlier.sentAt).toBeGreaterThanOrEqual(COOLDOWN_MS[history.route]);
          if (history.frequency === 'WEEKLY' || history.frequency === 'MONTHLY') {
            const { frequency, pageZone } = history;
            expect(calendarPeriod(frequency, pageZone, later.sentAt)).not.toBe(
              calendarPeriod(frequency, pageZone, earlier.sentAt),
            );
            expect(calendarPeriod(frequency, pageZone, later.slot)).not.toBe(
              calendarPeriod(frequency, pageZone, earlier.slot),
            );
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  it('sends in exactly the slots the slot rule allows, so no allowed slot is skipped', () => {
    fc.assert(
      fc.property(historyArb, (history) => {
        const { calendar, previous, decisions, activeSince, tokenExpiresAt } = simulate(history);
        const k = SLOTS_PER_SEND[history.rule.cadence][history.route];
        let last = previous?.slot;

        for (const { slot, sent } of decisions) {
          const active = activeSince === undefined || activeSince <= slot;
          const unexpired = tokenExpiresAt === undefined || slot < tokenExpiresAt;
          const coolEnough =
            last === undefined ||
            (calendar.indexOf(slot) - calendar.indexOf(last) >= k &&
              calendarPeriod(history.frequency, history.pageZone, last) !==
                calendarPeriod(history.frequency, history.pageZone, slot));

          expect(sent).toBe(active && unexpired && coolEnough);
          if (sent) {
            last = slot;
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  it('defers a send by at most its latency and one DST shift, unless it waits for a new Page-zone period', () => {
    fc.assert(
      fc.property(historyArb, (history) => {
        const { sends } = simulate(history);

        for (const { slot, sentAt } of sends) {
          // A calendar token whose last send left just after its slot's period ended (latency
          // past Sunday 23:59 in the Page zone) waits for the next period, as Meta counts it.
          if (!startsCalendarPeriod(history.frequency, history.pageZone, sentAt)) {
            expect(sentAt - slot).toBeLessThanOrEqual(MAX_LATENCY_MS + HOUR_MS);
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  it('lays strictly increasing slots at the local send time, or the next valid minute', () => {
    fc.assert(
      fc.property(zoneArb, ruleArb, startArb, (zone, rule, start) => {
        const end = start + HORIZON_MS[rule.cadence];
        const { hour, minute } = parseSendTime(rule.sendTime);

        const slots = slotsBetween(rule, zone, start, end);

        expect(slots.length).toBeGreaterThan(0);
        expect(slots[0]).toBe(nextSlotAfter(rule, zone, start));
        expect(slots[0]).toBeGreaterThan(start);
        expect(slots.at(-1)).toBeLessThanOrEqual(end);
        expect(nextSlotAfter(rule, zone, slots.at(-1) ?? end)).toBeGreaterThan(end);
        let expectedDate = DateTime.fromMillis(slots[0] ?? start, { zone }).startOf('day');
        slots.forEach((slot, i) => {
          const local = DateTime.fromMillis(slot, { zone });
          const wanted = `${expectedDate.toFormat('yyyy-MM-dd')} ${pad(hour)}:${pad(minute)}`;
          const onTime = wallTime(slot, zone) === wanted;
          const firstAfterGap =
            wallTime(slot - MINUTE_MS, zone) < wanted && wallTime(slot, zone) > wanted;
          expect(onTime || firstAfterGap).toBe(true);
          // A repeated wall time is sent at its first occurrence.
          for (const shift of [30 * MINUTE_MS, HOUR_MS]) {
            expect(wallTime(slot - shift, zone)).not.toBe(wallTime(slot, zone));
          }
          if (rule.cadence === 'WEEKLY') {
            expect(local.weekday).toBe(rule.weekday);
          }
          if (rule.cadence === 'MONTHLY') {
            expect(local.day).toBe(rule.dayOfMonth);
          }
          const before = slots[i - 1];
          if (before !== undefined) {
            expect(slot).toBeGreaterThan(before);
            expect(slotAtOrBefore(rule, zone, slot - 1)).toBe(before);
            expect(slotsBefore(rule, zone, slot, 1)).toBe(before);
          }
          expect(slotAtOrBefore(rule, zone, slot)).toBe(slot);
          expectedDate = expectedDate.plus(
            rule.cadence === 'DAILY'
              ? { days: 1 }
              : rule.cadence === 'WEEKLY'
                ? { weeks: 1 }
                : { months: 1 },
          );
        });
      }),
      { numRuns: 150 },
    );
  });
});
