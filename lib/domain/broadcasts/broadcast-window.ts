import { instantAtLocal } from '../slots.ts';
import type { BroadcastTiming } from './broadcast.ts';

/**
 * The instant a broadcast reaches subscribers in `zone`: its local date and time there (a time
 * a DST gap skips gives the first instant after the gap, as slots do), or its creation for one
 * sent at once.
 */
export function broadcastInstant(timing: BroadcastTiming, createdAt: number, zone: string): number {
  if ('now' in timing) return createdAt;
  const [year, month, day] = timing.date.split('-').map(Number);
  const [hour, minute] = timing.localTime.split(':').map(Number);
  return instantAtLocal(zone, {
    year: year ?? 0,
    month: month ?? 0,
    day: day ?? 0,
    hour: hour ?? 0,
    minute: minute ?? 0,
  });
}

/** The first and last zone's instant of a broadcast, and in which zones they fall. */
export interface BroadcastWindow {
  firstAt: number;
  firstZone: string;
  lastAt: number;
  lastZone: string;
}

/** The window a broadcast runs in over `zones` (at least one). */
export function broadcastWindow(
  timing: BroadcastTiming,
  createdAt: number,
  zones: readonly string[],
): BroadcastWindow {
  const [head = 'UTC', ...rest] = zones;
  const first = broadcastInstant(timing, createdAt, head);
  const window: BroadcastWindow = {
    firstAt: first,
    firstZone: head,
    lastAt: first,
    lastZone: head,
  };
  for (const zone of rest) {
    const at = broadcastInstant(timing, createdAt, zone);
    if (at < window.firstAt) Object.assign(window, { firstAt: at, firstZone: zone });
    if (at > window.lastAt) Object.assign(window, { lastAt: at, lastZone: zone });
  }
  return window;
}
