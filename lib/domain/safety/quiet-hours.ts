import { DateTime } from 'luxon';
import * as z from 'zod';
import type { Page, QuietHours } from '../page.ts';
import type { Topic } from '../topic.ts';

/** No message reaches a person between 21:00 and 08:00 their time, unless configured otherwise. */
export const QUIET_HOURS_DEFAULT: QuietHours = { start: '21:00', end: '08:00' };

const HH_MM = /^([01]\d|2[0-3]):[0-5]\d$/;
const HH_MM_MESSAGE = 'must be HH:mm, 00:00 to 23:59';

/** The admin API's quiet hours: two `HH:mm` times; equal ones switch them off. */
export const quietHoursSchema = z.strictObject(
  {
    start: z.string({ error: HH_MM_MESSAGE }).regex(HH_MM, HH_MM_MESSAGE),
    end: z.string({ error: HH_MM_MESSAGE }).regex(HH_MM, HH_MM_MESSAGE),
  },
  { error: 'must be {"start": "HH:mm", "end": "HH:mm"}' },
);

/** Which quiet hours hold for a topic's sends: its own, else its Page's, else the default. */
export function quietHoursFor(
  page: Pick<Page, 'quietHours'>,
  topic: Pick<Topic, 'quietHours'>,
): QuietHours {
  return topic.quietHours ?? page.quietHours ?? QUIET_HOURS_DEFAULT;
}

/** Minutes since midnight of an `HH:mm` time. */
export function minutesOf(hhmm: string): number {
  const [hours = 0, minutes = 0] = hhmm.split(':').map(Number);
  return hours * 60 + minutes;
}

/** Whether a local time of day (minutes since midnight) is inside the window. */
export function isQuietMinute(minute: number, { start, end }: QuietHours): boolean {
  const from = minutesOf(start);
  const to = minutesOf(end);
  if (from === to) return false;
  return from < to ? minute >= from && minute < to : minute >= from || minute < to;
}

/**
 * Whether `instant` falls inside the window in `zone`, read on the local wall clock: daylight
 * saving moves the window with the person's day, as their clock does.
 */
export function isQuiet(instant: number, zone: string, window: QuietHours): boolean {
  const local = DateTime.fromMillis(instant, { zone });
  return isQuietMinute(local.hour * 60 + local.minute, window);
}

/** A window as operators read it: `21:00-08:00`. */
export function describeQuietHours({ start, end }: QuietHours): string {
  return `${start}-${end}`;
}
