import { describe, expect, it } from 'vitest';
import { metaErrorFor } from '#lib/domain/meta-errors.ts';
import {
  hourOf,
  isStopOrBlock,
  MIN_SENDS,
  stopSpikeVerdict,
  windowHours,
  windowTotals,
} from '#lib/domain/safety/stop-spike.ts';

const HOUR_MS = 3_600_000;
const NOW = Date.parse('2026-12-01T15:20:00Z');
const NOW_HOUR = hourOf(NOW);

const bucket = (hoursAgo: number, sends: number, stops: number) => ({
  hour: NOW_HOUR - hoursAgo,
  sends,
  stops,
});

describe('windowTotals: the last 24 hourly buckets, the current one included', () => {
  it.each([
    ['the current hour', [bucket(0, 10, 1)], { sends: 10, stops: 1 }],
    ['the oldest hour inside (23 h ago)', [bucket(23, 10, 1)], { sends: 10, stops: 1 }],
    ['nothing of the hour 24 h ago', [bucket(24, 10, 1)], { sends: 0, stops: 0 }],
    ['nothing of a later hour (a clock ahead)', [bucket(-1, 10, 1)], { sends: 0, stops: 0 }],
    [
      'every hour inside, summed',
      [bucket(0, 100, 2), bucket(5, 100, 3), bucket(23, 50, 1), bucket(30, 900, 90)],
      { sends: 250, stops: 6 },
    ],
  ])('counts %s', (_, buckets, totals) => {
    expect(windowTotals(buckets, NOW)).toEqual(totals);
  });

  it('spans exactly 24 hours ending with the hour of now', () => {
    const { from, to } = windowHours(NOW);

    expect(to - from + 1).toBe(24);
    expect(to * HOUR_MS).toBeLessThanOrEqual(NOW);
    expect((to + 1) * HOUR_MS).toBeGreaterThan(NOW);
  });

  it.each([
    [
      'leaves out the hours before a resume',
      [bucket(5, 300, 30), bucket(1, 40, 1)],
      { at: NOW - 3 * HOUR_MS, sends: 0, stops: 0 },
      { sends: 40, stops: 1 },
    ],
    [
      'counts only what the resume hour gained after it',
      [bucket(2, 300, 30)],
      { at: NOW - 2 * HOUR_MS, sends: 280, stops: 29 },
      { sends: 20, stops: 1 },
    ],
    [
      'ignores a resume older than the window',
      [bucket(3, 100, 5)],
      { at: NOW - 48 * HOUR_MS, sends: 100, stops: 5 },
      { sends: 100, stops: 5 },
    ],
  ])('%s', (_, buckets, since, totals) => {
    expect(windowTotals(buckets, NOW, since)).toEqual(totals);
  });
});

describe('stopSpikeVerdict: above the threshold, once there are 200 sends', () => {
  it.each([
    ['holds below 200 sends, whatever the rate', MIN_SENDS - 1, 50, 3, false],
    ['trips at 200 sends above the threshold', 200, 7, 3, true],
    ['holds exactly at the threshold (6 of 200 is 3 %)', 200, 6, 3, false],
    ['trips one stop above it', 200, 7, 3, true],
    ['holds exactly at a fractional threshold (5 of 200 is 2.5 %)', 200, 5, 2.5, false],
    ['trips just above a fractional threshold', 1000, 26, 2.5, true],
    ['trips on any stop at a 0 % threshold', 200, 1, 0, true],
    ['holds without stops at a 0 % threshold', 200, 0, 0, false],
    ['never trips at 100 % while stops do not outnumber sends', 300, 300, 100, false],
  ])('%s', (_, sends, stops, threshold, trip) => {
    expect(stopSpikeVerdict({ sends, stops }, threshold).trip).toBe(trip);
  });

  it('names the numbers that tripped it', () => {
    const verdict = stopSpikeVerdict({ sends: 400, stops: 20 }, 3);

    expect(verdict).toMatchObject({ trip: true, ratePercent: 5 });
    expect(verdict.trip && verdict.reason).toBe(
      "20 stops and blocks over 400 sends in 24 h (5 %), above the topic's 3 %",
    );
  });
});

describe('isStopOrBlock: read from the Meta error table', () => {
  it.each([
    ['2300034 (MM stop)', { code: 2300034 }, true],
    ['100/2300034 (MM stop as a subcode)', { code: 100, subcode: 2300034 }, true],
    ['10/1893015 (legacy stop)', { code: 10, subcode: 1893015 }, true],
    ['551 (unreachable)', { code: 551 }, true],
    ['200/1545041 (blocked the Page)', { code: 200, subcode: 1545041 }, true],
    ['100 (dead token)', { code: 100 }, false],
    ['2300035 (cooldown)', { code: 2300035 }, false],
    ['2300042 (frequency cap)', { code: 2300042 }, false],
  ])('%s counts: %s', (_, error, counts) => {
    expect(isStopOrBlock(metaErrorFor(error).subscription)).toBe(counts);
  });
});
