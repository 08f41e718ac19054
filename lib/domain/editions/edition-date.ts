import { DateTime } from 'luxon';
import { instantAtLocal, parseSlotRule, type SlotRule } from '../slots.ts';

/**
 * The edition a slot sends: the local date of the slot in the subscriber's zone, so Auckland,
 * Paris and Los Angeles all get 5 December at their own 09:00. For WEEKLY and MONTHLY topics it
 * is that Monday (or weekday), that 1st (or day of month). A send time skipped by a DST gap
 * still belongs to the date it was meant for, even when the gap moves it past midnight.
 */
export function editionDateOf(rule: SlotRule, zone: string, slot: number): string {
  const parsed = parseSlotRule(rule);
  const local = DateTime.fromMillis(slot, { zone });
  const sameDay = DateTime.utc(local.year, local.month, local.day);
  // A slot is on its own local date, or, pushed past midnight by a gap, on the day before.
  for (const date of [sameDay, sameDay.minus({ days: 1 })]) {
    if (parsed.cadence === 'WEEKLY' && date.weekday !== parsed.weekday) continue;
    if (parsed.cadence === 'MONTHLY' && date.day !== parsed.dayOfMonth) continue;
    const wall = { year: date.year, month: date.month, day: date.day };
    if (instantAtLocal(zone, { ...wall, hour: parsed.hour, minute: parsed.minute }) === slot) {
      return isoDate(date);
    }
  }
  return isoDate(sameDay);
}

/** The `YYYY-MM-DD` of a date carried as UTC midnight. */
function isoDate(date: DateTime): string {
  return date.toISODate() ?? '';
}

/** The dates from `from` to `to` inclusive (`YYYY-MM-DD`), in order. */
export function datesBetween(from: string, to: string): string[] {
  const dates: string[] = [];
  let date = DateTime.fromISO(from, { zone: 'utc' });
  const last = DateTime.fromISO(to, { zone: 'utc' });
  while (date.toMillis() <= last.toMillis()) {
    dates.push(isoDate(date));
    date = date.plus({ days: 1 });
  }
  return dates;
}
