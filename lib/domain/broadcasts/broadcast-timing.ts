import { editionDateSchema } from '../editions/edition.ts';
import { InvalidInputError } from '../errors.ts';
import type { Page } from '../page.ts';
import {
  describeQuietHours,
  isQuietMinute,
  minutesOf,
  quietHoursFor,
} from '../safety/quiet-hours.ts';
import type { Topic } from '../topic.ts';
import type { BroadcastTiming } from './broadcast.ts';
import { type BroadcastWindow, broadcastWindow } from './broadcast-window.ts';

const HH_MM = /^([01]\d|2[0-3]):[0-5]\d$/;

/** The furthest ahead a broadcast may be set: a year, as the topic's editions are listed. */
export const BROADCAST_MAX_AHEAD_MS = 366 * 24 * 3_600_000;

/**
 * Reads a request's timing: `{date, localTime}` or `{now: true}`, never both; the error names
 * the field.
 */
export function parseBroadcastTiming(body: {
  date?: unknown;
  localTime?: unknown;
  now?: unknown;
}): BroadcastTiming {
  const { date, localTime, now } = body;
  if (now !== undefined) {
    if (now !== true)
      throw new InvalidInputError('now: must be true, or left out with date and localTime');
    if (date !== undefined || localTime !== undefined) {
      const field = date !== undefined ? 'date' : 'localTime';
      throw new InvalidInputError(
        `${field}: not with now: a broadcast goes at once or at a local time`,
      );
    }
    return { now: true };
  }
  if (date === undefined && localTime === undefined) {
    throw new InvalidInputError('date: required with localTime (or now: true)');
  }
  const parsedDate = editionDateSchema.safeParse(date);
  if (!parsedDate.success) {
    throw new InvalidInputError(`date: ${parsedDate.error.issues[0]?.message ?? 'invalid'}`);
  }
  if (typeof localTime !== 'string' || !HH_MM.test(localTime)) {
    throw new InvalidInputError('localTime: must be HH:mm, 00:00 to 23:59');
  }
  return { date: parsedDate.data, localTime };
}

/**
 * The window a broadcast will run in over the topic's zones (its Page's zone when it has no
 * subscriber yet), refused before anything is stored when a local time lies inside the quiet
 * hours that hold for the topic, when its first zone's instant is not in the future, or when it
 * is more than a year ahead.
 */
export function checkBroadcastTiming(input: {
  timing: BroadcastTiming;
  now: number;
  page: Pick<Page, 'quietHours' | 'timezone'>;
  topic: Pick<Topic, 'quietHours'>;
  zones: readonly string[];
}): BroadcastWindow {
  const { timing, now, page, topic } = input;
  const zones = input.zones.length > 0 ? input.zones : [page.timezone];
  const window = broadcastWindow(timing, now, zones);
  if ('now' in timing) return window;
  const quiet = quietHoursFor(page, topic);
  if (isQuietMinute(minutesOf(timing.localTime), quiet)) {
    const whose = topic.quietHours ? "the topic's" : page.quietHours ? "the Page's" : 'the default';
    throw new InvalidInputError(
      `localTime: ${timing.localTime} is inside ${whose} quiet hours ${describeQuietHours(quiet)}, when nothing is sent; choose another time`,
    );
  }
  const at = `${timing.date} ${timing.localTime}`;
  if (window.firstAt <= now) {
    throw new InvalidInputError(
      `date: ${at} is past in ${window.firstZone} (${new Date(window.firstAt).toISOString()}), the topic's first zone; choose a later date or time`,
    );
  }
  if (window.lastAt > now + BROADCAST_MAX_AHEAD_MS) {
    throw new InvalidInputError(`date: ${at} is more than a year ahead`);
  }
  return window;
}
