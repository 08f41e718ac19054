import { DateTime } from 'luxon';
import type { DeliveryRoute } from './page.ts';
import {
  assertValidZone,
  instantAtLocal,
  nextSlotAfter,
  type ParsedSlotRule,
  parseSlotRule,
  type SlotRule,
  slotsBefore,
} from './slots.ts';
import type { Cadence } from './topic.ts';

/** A calendar period of the Page's zone that caps an old WEEKLY or MONTHLY token. */
export type CalendarPeriod = 'WEEKLY' | 'MONTHLY';

/** Where a subscription is judged for one slot of the fan-out. */
export interface SlotEligibilityInput {
  /** The run's slot, never a clock reading. */
  slot: number;
  rule: SlotRule;
  /** The subscriber's zone, where the rule's slots are laid out. */
  zone: string;
  route: DeliveryRoute;
  /** The frequency the token came with; only old tokens carry one. */
  frequency?: Cadence;
  /** The Page's zone, whose calendar weeks and months cap WEEKLY/MONTHLY tokens. */
  pageZone: string;
  lastSlot?: number;
  activeSince?: number;
  /** Undefined means the token never expires. */
  tokenExpiresAt?: number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

const ROUTE_COOLDOWN_MS: Record<DeliveryRoute, number> = {
  send_api: 48 * HOUR_MS,
  marketing_messages: 12 * HOUR_MS,
};

const NOMINAL_PERIOD_MS: Record<Cadence, number> = {
  DAILY: DAY_MS,
  WEEKLY: 7 * DAY_MS,
  MONTHLY: 28 * DAY_MS,
};

const ROUTE_NAMES: Record<DeliveryRoute, string> = {
  send_api: 'legacy route',
  marketing_messages: 'Marketing Message API',
};

const WEEKDAY_NAMES = [
  'Monday',
  'Tuesday',
  'Wednesday',
  'Thursday',
  'Friday',
  'Saturday',
  'Sunday',
] as const;

/** The real time Meta requires between two messages on one token over `route`. */
export function routeCooldownMs(route: DeliveryRoute): number {
  return ROUTE_COOLDOWN_MS[route];
}

/** The fewest slots of `cadence` that span the route cooldown at the cadence's nominal period. */
export function slotsPerSend(cadence: Cadence, route: DeliveryRoute): number {
  return Math.max(1, Math.ceil(routeCooldownMs(route) / NOMINAL_PERIOD_MS[cadence]));
}

/** The calendar period that caps a token of this frequency, if any. */
export function calendarPeriodOf(frequency: Cadence | undefined): CalendarPeriod | undefined {
  return frequency === 'WEEKLY' || frequency === 'MONTHLY' ? frequency : undefined;
}

/** The first instant of the calendar week (Monday 00:00) or month containing `instant` in `zone`. */
export function calendarPeriodStart(period: CalendarPeriod, zone: string, instant: number): number {
  assertValidZone(zone);
  const local = DateTime.fromMillis(instant, { zone });
  return startOfLocalDay(zone, local.startOf(period === 'WEEKLY' ? 'week' : 'month'));
}

/** The first instant of the calendar week or month after the one containing `instant` in `zone`. */
export function nextCalendarPeriodStart(
  period: CalendarPeriod,
  zone: string,
  instant: number,
): number {
  assertValidZone(zone);
  const local = DateTime.fromMillis(instant, { zone });
  const next =
    period === 'WEEKLY'
      ? local.startOf('week').plus({ weeks: 1 })
      : local.startOf('month').plus({ months: 1 });
  return startOfLocalDay(zone, next);
}

/**
 * The value a subscription's `lastSlot` must be strictly below to be sent in `slot`:
 * the fan-out's `lastSlot < :threshold` filter.
 */
export function lastSlotThreshold(
  input: Pick<SlotEligibilityInput, 'slot' | 'rule' | 'zone' | 'route' | 'frequency' | 'pageZone'>,
): number {
  const { cadence } = parseSlotRule(input.rule);
  // k slots at the nominal period cover the cooldown, so the last send must be at least k slots
  // back: a DAILY topic on the 48 h route sends every second day even when DST makes that 47 h.
  const bySlots = slotsBefore(
    input.rule,
    input.zone,
    input.slot,
    slotsPerSend(cadence, input.route) - 1,
  );
  const period = calendarPeriodOf(input.frequency);
  return period === undefined
    ? bySlots
    : Math.min(bySlots, calendarPeriodStart(period, input.pageZone, input.slot));
}

/** Whether the slot rule lets this subscription be sent in `slot`. */
export function isEligibleInSlot(input: SlotEligibilityInput): boolean {
  if (input.activeSince !== undefined && input.activeSince > input.slot) {
    return false;
  }
  if (input.tokenExpiresAt !== undefined && input.slot >= input.tokenExpiresAt) {
    return false;
  }
  return input.lastSlot === undefined || input.lastSlot < lastSlotThreshold(input);
}

/**
 * The earliest instant Meta accepts the next message on a token sent at `lastSentAt`;
 * 0 (the epoch, before any real instant) when the token was never sent.
 */
export function earliestSendAt(input: {
  lastSentAt?: number;
  route: DeliveryRoute;
  frequency?: Cadence;
  pageZone: string;
}): number {
  if (input.lastSentAt === undefined) {
    return 0;
  }
  const byRoute = input.lastSentAt + routeCooldownMs(input.route);
  const period = calendarPeriodOf(input.frequency);
  return period === undefined
    ? byRoute
    : Math.max(byRoute, nextCalendarPeriodStart(period, input.pageZone, input.lastSentAt));
}

/** How often a subscription really receives a topic, in words an operator reads. */
export function effectiveCadence(input: {
  rule: SlotRule;
  route: DeliveryRoute;
  frequency?: Cadence;
}): { slotsPerSend: number; description: string } {
  const rule = parseSlotRule(input.rule);
  const perSend = slotsPerSend(rule.cadence, input.route);
  let description = describeSlots(rule, perSend);
  if (perSend > 1) {
    const hours = routeCooldownMs(input.route) / HOUR_MS;
    description += `: the ${ROUTE_NAMES[input.route]} allows one send per ${hours} h`;
  }
  const period = calendarPeriodOf(input.frequency);
  if (period !== undefined) {
    const unit = period === 'WEEKLY' ? 'week' : 'month';
    description += `, at most once per calendar ${unit} in the Page's time zone (an old ${period} token)`;
  }
  return { slotsPerSend: perSend, description };
}

/**
 * The first slot after `now` (and not before `activeSince`) in which the subscription is
 * eligible; undefined when its token expires first.
 */
export function nextDueSlot(
  input: Omit<SlotEligibilityInput, 'slot'> & { now: number },
): number | undefined {
  // Every eligible slot is after lastSlot, so starting there bounds the search by k slots
  // plus one calendar period.
  let after = Math.max(input.now, input.lastSlot ?? input.now);
  if (input.activeSince !== undefined) {
    after = Math.max(after, input.activeSince - 1);
  }
  let slot = nextSlotAfter(input.rule, input.zone, after);
  while (input.tokenExpiresAt === undefined || slot < input.tokenExpiresAt) {
    if (isEligibleInSlot({ ...input, slot })) {
      return slot;
    }
    slot = nextSlotAfter(input.rule, input.zone, slot);
  }
  return undefined;
}

/** Midnight of a local date, or the first instant of that day when DST skips midnight. */
function startOfLocalDay(zone: string, date: DateTime): number {
  return instantAtLocal(zone, {
    year: date.year,
    month: date.month,
    day: date.day,
    hour: 0,
    minute: 0,
  });
}

function describeSlots(rule: ParsedSlotRule, perSend: number): string {
  const at = `at ${String(rule.hour).padStart(2, '0')}:${String(rule.minute).padStart(2, '0')}`;
  switch (rule.cadence) {
    case 'DAILY':
      return perSend === 1 ? `every day ${at}` : `every ${perSend} days ${at}`;
    case 'WEEKLY': {
      const every = perSend === 1 ? 'every week' : `every ${perSend} weeks`;
      return `${every} on ${WEEKDAY_NAMES[rule.weekday - 1]} ${at}`;
    }
    case 'MONTHLY': {
      const every = perSend === 1 ? 'every month' : `every ${perSend} months`;
      return `${every} on day ${rule.dayOfMonth} ${at}`;
    }
  }
}
