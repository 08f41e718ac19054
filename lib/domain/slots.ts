import { DateTime, IANAZone } from 'luxon';
import { InvalidInputError } from './errors.ts';
import { CADENCES, type Cadence } from './topic.ts';

/** When a topic sends: its cadence, local `HH:mm` send time, and weekday or day of month. */
export interface SlotRule {
  cadence: Cadence;
  sendTime: string;
  /** ISO weekday, 1 = Monday (default); WEEKLY only. */
  weekday?: number;
  /** Day of month 1 to 28 (default 1); MONTHLY only. */
  dayOfMonth?: number;
}

/** A slot rule checked and completed with its defaults. */
export interface ParsedSlotRule {
  cadence: Cadence;
  hour: number;
  minute: number;
  weekday: number;
  dayOfMonth: number;
}

/** A wall-clock time on a calendar date, as a person in some zone reads it. */
export interface LocalDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

/** A slot rule, send time or time zone that cannot produce a calendar. */
export class InvalidSlotRuleError extends InvalidInputError {
  override readonly name = 'InvalidSlotRuleError';
}

const SEND_TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;
const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** Tells whether `zone` is an IANA time zone the runtime knows. */
export function isValidZone(zone: string): boolean {
  // Recent Intl versions also accept bare offsets such as `+02:00`, which have no DST rules.
  // IANAZone.create caches per name; IANAZone.isValidZone builds an Intl formatter per call.
  return /^[A-Za-z]/.test(zone) && IANAZone.create(zone).isValid;
}

/** Throws InvalidSlotRuleError unless `zone` is an IANA time zone the runtime knows. */
export function assertValidZone(zone: string): void {
  if (!isValidZone(zone)) {
    throw new InvalidSlotRuleError(`unknown IANA time zone ${JSON.stringify(zone)}`);
  }
}

/** Reads a 24-hour `HH:mm` send time, or throws InvalidSlotRuleError. */
export function parseSendTime(sendTime: string): { hour: number; minute: number } {
  const match = SEND_TIME.exec(sendTime);
  if (match === null) {
    throw new InvalidSlotRuleError(
      `sendTime must be HH:mm between 00:00 and 23:59, got ${JSON.stringify(sendTime)}`,
    );
  }
  return { hour: Number(match[1]), minute: Number(match[2]) };
}

/** Checks a slot rule and fills in its defaults, or throws InvalidSlotRuleError. */
export function parseSlotRule(rule: SlotRule): ParsedSlotRule {
  if (!CADENCES.includes(rule.cadence)) {
    throw new InvalidSlotRuleError(
      `cadence must be one of ${CADENCES.join(', ')}, got ${JSON.stringify(rule.cadence)}`,
    );
  }
  const weekday = rule.weekday ?? 1;
  if (!Number.isInteger(weekday) || weekday < 1 || weekday > 7) {
    throw new InvalidSlotRuleError(`weekday must be an integer 1 (Monday) to 7, got ${weekday}`);
  }
  const dayOfMonth = rule.dayOfMonth ?? 1;
  if (!Number.isInteger(dayOfMonth) || dayOfMonth < 1 || dayOfMonth > 28) {
    throw new InvalidSlotRuleError(`dayOfMonth must be an integer 1 to 28, got ${dayOfMonth}`);
  }
  return { cadence: rule.cadence, ...parseSendTime(rule.sendTime), weekday, dayOfMonth };
}

/**
 * The instant a wall-clock time happens in `zone`: a time repeated by a DST fall-back
 * gives its first occurrence, a time skipped by a spring-forward gives the first
 * instant after the gap (02:30 on a 02:00 to 03:00 gap day gives 03:00).
 */
export function instantAtLocal(zone: string, wall: LocalDateTime): number {
  assertValidZone(zone);
  const key = `${zone} ${wall.year}-${wall.month}-${wall.day} ${wall.hour}:${wall.minute}`;
  let instant = resolvedWallTimes.get(key);
  if (instant === undefined) {
    instant = resolveWallTime(zone, wall);
    if (resolvedWallTimes.size >= RESOLVED_WALL_TIMES_MAX) {
      resolvedWallTimes.clear();
    }
    resolvedWallTimes.set(key, instant);
  }
  return instant;
}

/** All slots `s` of the rule in `zone` with `fromExclusive < s <= toInclusive`, ascending. */
export function slotsBetween(
  rule: SlotRule,
  zone: string,
  fromExclusive: number,
  toInclusive: number,
): number[] {
  const parsed = parseSlotRule(rule);
  assertValidZone(zone);
  assertInstant(fromExclusive);
  assertInstant(toInclusive);
  const slots: number[] = [];
  let { date, slot } = firstSlotAfter(parsed, zone, fromExclusive);
  while (slot <= toInclusive) {
    if (slot !== slots.at(-1)) {
      slots.push(slot);
    }
    date = stepRuleDate(parsed, date, 1);
    slot = slotOn(parsed, zone, date);
  }
  return slots;
}

/** The first slot of the rule in `zone` strictly after `afterExclusive`. */
export function nextSlotAfter(rule: SlotRule, zone: string, afterExclusive: number): number {
  const parsed = parseSlotRule(rule);
  assertValidZone(zone);
  assertInstant(afterExclusive);
  return firstSlotAfter(parsed, zone, afterExclusive).slot;
}

/** The latest slot of the rule in `zone` at or before `instant`. */
export function slotAtOrBefore(rule: SlotRule, zone: string, instant: number): number {
  const parsed = parseSlotRule(rule);
  assertValidZone(zone);
  assertInstant(instant);
  return lastSlotAtOrBefore(parsed, zone, instant).slot;
}

/** The slot `n` places before the latest slot at or before `slot` (`n = 0` gives that slot). */
export function slotsBefore(rule: SlotRule, zone: string, slot: number, n: number): number {
  if (!Number.isInteger(n) || n < 0) {
    throw new RangeError(`n must be a non-negative integer, got ${n}`);
  }
  const parsed = parseSlotRule(rule);
  assertValidZone(zone);
  assertInstant(slot);
  let { date, slot: current } = lastSlotAtOrBefore(parsed, zone, slot);
  let remaining = n;
  while (remaining > 0) {
    date = stepRuleDate(parsed, date, -1);
    const earlier = slotOn(parsed, zone, date);
    // Two dates can share one instant only when a whole local day is skipped.
    if (earlier < current) {
      current = earlier;
      remaining -= 1;
    }
  }
  return current;
}

// A pure function's memo: a fan-out or a listing resolves the same few wall times many times.
const resolvedWallTimes = new Map<string, number>();
const RESOLVED_WALL_TIMES_MAX = 10_000;

function resolveWallTime(zone: string, wall: LocalDateTime): number {
  const resolved = DateTime.fromObject({ ...wall, second: 0, millisecond: 0 }, { zone });
  if (!resolved.isValid) {
    throw new RangeError(
      `no such local time ${JSON.stringify(wall)}: ${resolved.invalidExplanation}`,
    );
  }
  if (wallKey(resolved) === wallKey(wall)) {
    return Math.min(...resolved.getPossibleOffsets().map((candidate) => candidate.toMillis()));
  }
  // Luxon moves a skipped time forward by the length of the gap (02:30 becomes 03:30);
  // the slot is the transition itself: the first minute whose wall time reaches `wall`.
  const target = wallKey(wall);
  let before = resolved.toMillis() - DAY_MS;
  let reached = resolved.toMillis();
  while (reached - before > MINUTE_MS) {
    const middle = before + Math.floor((reached - before) / 2 / MINUTE_MS) * MINUTE_MS;
    if (wallKey(DateTime.fromMillis(middle, { zone })) >= target) {
      reached = middle;
    } else {
      before = middle;
    }
  }
  return reached;
}

interface DatedSlot {
  /** The local calendar date the slot belongs to, carried as UTC midnight. */
  date: DateTime;
  slot: number;
}

function firstSlotAfter(rule: ParsedSlotRule, zone: string, after: number): DatedSlot {
  // Start a day early: local dates are not monotonic around a fall-back at midnight.
  let date = lastRuleDateOnOrBefore(rule, localDateOf(after, zone).minus({ days: 1 }));
  let slot = slotOn(rule, zone, date);
  while (slot <= after) {
    date = stepRuleDate(rule, date, 1);
    slot = slotOn(rule, zone, date);
  }
  return { date, slot };
}

function lastSlotAtOrBefore(rule: ParsedSlotRule, zone: string, instant: number): DatedSlot {
  // Start a day late: a skipped send time moves its slot to the next valid minute.
  let date = firstRuleDateOnOrAfter(rule, localDateOf(instant, zone).plus({ days: 1 }));
  let slot = slotOn(rule, zone, date);
  while (slot > instant) {
    date = stepRuleDate(rule, date, -1);
    slot = slotOn(rule, zone, date);
  }
  return { date, slot };
}

function slotOn(rule: ParsedSlotRule, zone: string, date: DateTime): number {
  return instantAtLocal(zone, {
    year: date.year,
    month: date.month,
    day: date.day,
    hour: rule.hour,
    minute: rule.minute,
  });
}

function localDateOf(instant: number, zone: string): DateTime {
  const local = DateTime.fromMillis(instant, { zone });
  return DateTime.utc(local.year, local.month, local.day);
}

function firstRuleDateOnOrAfter(rule: ParsedSlotRule, date: DateTime): DateTime {
  switch (rule.cadence) {
    case 'DAILY':
      return date;
    case 'WEEKLY':
      return date.plus({ days: (rule.weekday - date.weekday + 7) % 7 });
    case 'MONTHLY': {
      const inMonth = date.set({ day: rule.dayOfMonth });
      return inMonth.toMillis() < date.toMillis() ? inMonth.plus({ months: 1 }) : inMonth;
    }
  }
}

function lastRuleDateOnOrBefore(rule: ParsedSlotRule, date: DateTime): DateTime {
  switch (rule.cadence) {
    case 'DAILY':
      return date;
    case 'WEEKLY':
      return date.minus({ days: (date.weekday - rule.weekday + 7) % 7 });
    case 'MONTHLY': {
      const inMonth = date.set({ day: rule.dayOfMonth });
      return inMonth.toMillis() > date.toMillis() ? inMonth.minus({ months: 1 }) : inMonth;
    }
  }
}

function stepRuleDate(rule: ParsedSlotRule, date: DateTime, steps: number): DateTime {
  switch (rule.cadence) {
    case 'DAILY':
      return date.plus({ days: steps });
    case 'WEEKLY':
      return date.plus({ weeks: steps });
    case 'MONTHLY':
      return date.plus({ months: steps });
  }
}

/** A wall-clock time as a number that orders like the wall clock does. */
function wallKey(wall: LocalDateTime): number {
  return DateTime.utc(wall.year, wall.month, wall.day, wall.hour, wall.minute).toMillis();
}

function assertInstant(instant: number): void {
  if (!Number.isFinite(instant)) {
    throw new RangeError(`instant must be finite epoch milliseconds, got ${instant}`);
  }
}
