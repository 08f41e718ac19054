import { describe, expect, it } from 'vitest';
import { hourOf } from '#lib/domain/safety/conversation-counts.ts';
import { describeBreach, forecastFrequencyCap } from '#lib/domain/safety/frequency-forecast.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Mid-hour, so a window's edge falls inside an hour. */
const NOW = Date.parse('2026-12-01T15:20:00Z');

/** The counts of the hour `hoursAgo` before the hour of now. */
const hour = (hoursAgo: number, organic: number, marketing = 0) => ({
  hour: hourOf(NOW) - hoursAgo,
  organic,
  marketing,
});

describe('forecastFrequencyCap: the weekly cap, 20 % of 7 days', () => {
  // Conversations of the last day count in both windows; the weekly cap is judged first.
  it.each([
    ['exactly 20 %: 4 organic, the new message the 5th conversation', [hour(2, 4)], undefined],
    ['over 20 % with a send before: 5 organic, 1 sent', [hour(2, 5, 1)], 'weekly'],
    [
      'exactly 20 % with a send before: 8 organic, 1 sent, 10 with the new one',
      [hour(2, 8, 1)],
      undefined,
    ],
    ['just over 20 % with a send before: 7 organic, 1 sent', [hour(2, 7, 1)], 'weekly'],
    [
      'spread over the week: 8 organic, 1 sent',
      [hour(150, 2), hour(100, 2, 1), hour(2, 4)],
      undefined,
    ],
    [
      'spread over the week: 7 organic, 1 sent',
      [hour(150, 1), hour(100, 2, 1), hour(2, 4)],
      'weekly',
    ],
  ])('%s', (_, hours, cap) => {
    expect(forecastFrequencyCap(hours, NOW)?.cap).toBe(cap);
  });
});

describe('forecastFrequencyCap: the daily cap, 40 % of 1 day', () => {
  // 20 organic in the week keep the weekly cap far: only the last day decides.
  const week = hour(100, 20);

  it.each([
    ['exactly 40 %: 3 organic, 1 sent, 5 with the new one', [week, hour(2, 3, 1)], undefined],
    ['just over 40 %: 3 organic, 2 sent', [week, hour(2, 3, 2)], 'daily'],
    ['just over 40 %: 2 organic, 1 sent', [week, hour(2, 2, 1)], 'daily'],
    ['a first message of the day after 2 organic (33 %)', [week, hour(2, 2)], undefined],
    [
      'a first message of the day after 1 organic: too few to judge the day',
      [week, hour(2, 1)],
      undefined,
    ],
    [
      'a day without organic conversations: not judged, the week is',
      [week, hour(30, 0, 1)],
      undefined,
    ],
  ])('%s', (_, hours, cap) => {
    expect(forecastFrequencyCap(hours, NOW)?.cap).toBe(cap);
  });
});

describe('forecastFrequencyCap: who is exempt', () => {
  it('lets a person with no organic conversation in 7 days be sent to, however many messages', () => {
    expect(forecastFrequencyCap([hour(2, 0, 3), hour(50, 0, 4)], NOW)).toBeUndefined();
  });

  it('lets the first message go to a person never counted', () => {
    expect(forecastFrequencyCap([], NOW)).toBeUndefined();
  });

  it('counts a person whose only organic conversation is 8 days old as having none', () => {
    expect(forecastFrequencyCap([hour(8 * 24, 5)], NOW)).toBeUndefined();
  });

  it.each([
    ['the one message that opened an opt-in', [hour(2, 1)]],
    ['3 organic in the week, one message of ours', [hour(50, 3, 1)]],
    ['1 organic today, one message of ours', [hour(100, 20), hour(2, 1, 1)]],
  ])(
    'does not judge a window with fewer organic conversations than a first message needs: %s',
    (_, hours) => {
      expect(forecastFrequencyCap(hours, NOW)).toBeUndefined();
    },
  );
});

describe("forecastFrequencyCap: the windows' edges, inside an hour", () => {
  // The hour of now minus 7 days starts before the window and ends inside it.
  const edgeOfWeek = 7 * 24;
  const edgeOfDay = 24;

  it('leaves out organic conversations of the hour the 7 days begin in', () => {
    // With the edge hour's 20 organic the share is far below 20 %; without, 5 organic and a send decide.
    expect(forecastFrequencyCap([hour(edgeOfWeek, 20), hour(1, 5, 1)], NOW)?.cap).toBe('weekly');
  });

  it('takes organic conversations of the first whole hour of the 7 days', () => {
    expect(forecastFrequencyCap([hour(edgeOfWeek - 1, 20), hour(1, 5, 1)], NOW)).toBeUndefined();
  });

  it('counts our messages of the hour the 7 days begin in', () => {
    // 8 organic and the new message alone is 11 %; with 2 sends of the edge hour, 27 %.
    expect(forecastFrequencyCap([hour(edgeOfWeek, 0, 2), hour(1, 8)], NOW)?.cap).toBe('weekly');
    expect(forecastFrequencyCap([hour(edgeOfWeek + 1, 0, 2), hour(1, 8)], NOW)).toBeUndefined();
  });

  it('leaves out organic conversations of the hour the day begins in, and counts our messages of it', () => {
    const week = hour(100, 20);

    // Day: 2 organic of the edge hour left out, so 2 organic, a send and the new message: 50 %.
    expect(forecastFrequencyCap([week, hour(edgeOfDay, 2), hour(1, 2, 1)], NOW)?.cap).toBe('daily');
    expect(
      forecastFrequencyCap([week, hour(edgeOfDay - 1, 2), hour(1, 2, 1)], NOW),
    ).toBeUndefined();
    // 2 organic and a send of the edge hour: 2 of 4 is 50 %; a send an hour older is out (33 %).
    expect(forecastFrequencyCap([week, hour(edgeOfDay, 0, 1), hour(1, 2)], NOW)?.cap).toBe('daily');
    expect(
      forecastFrequencyCap([week, hour(edgeOfDay + 1, 0, 1), hour(1, 2)], NOW),
    ).toBeUndefined();
  });

  it('counts conversations of the hour of now, and none of a later hour (a clock ahead)', () => {
    expect(forecastFrequencyCap([hour(0, 4)], NOW)).toBeUndefined();
    expect(forecastFrequencyCap([hour(-1, 20), hour(0, 5, 1)], NOW)?.cap).toBe('weekly');
  });

  it('judges at the instant the message leaves, not when it was due', () => {
    const hours = [hour(edgeOfWeek - 1, 20), hour(1, 5, 1)];

    expect(forecastFrequencyCap(hours, NOW)).toBeUndefined();
    expect(forecastFrequencyCap(hours, NOW + HOUR_MS)?.cap).toBe('weekly');
    expect(forecastFrequencyCap(hours, NOW + DAY_MS)?.cap).toBe('weekly');
  });
});

describe('describeBreach', () => {
  it('names the cap and the counts, nothing else', () => {
    const breach = forecastFrequencyCap([hour(2, 5, 1)], NOW);

    expect(breach && describeBreach(breach)).toBe(
      'weekly cap: 1 marketing and 5 organic conversations in 7 days',
    );
  });
});
