import { describe, expect, it } from 'vitest';
import {
  BOUNDARY_RETRY_MS,
  BOUNDARY_WINDOW_MS,
  CAMPAIGN_HOLD_MS,
  cooldownRefusalRetryAt,
  FREQUENCY_CAP_REST_MS,
  frequencyCapUntil,
  jittered,
  MIN_PUT_BACK_MS,
  pageHoldUntil,
  putBackDelay,
  RATE_LIMIT_HOLD_MS,
  rateLimitHoldUntil,
  TRANSIENT_MAX_MS,
  transientBackoff,
} from '#lib/domain/sending/retry-policy.ts';

const NOW = Date.parse('2026-11-21T09:00:00Z');

describe('transientBackoff', () => {
  it.each([
    // receive, random, put-back: 5 s doubled per receive, capped at 15 min, then ±25 %
    [1, 0.5, 5_000],
    [2, 0.5, 10_000],
    [3, 0.5, 20_000],
    [4, 0.5, 40_000],
    [8, 0.5, 640_000],
    [9, 0.5, TRANSIENT_MAX_MS],
    [20, 0.5, TRANSIENT_MAX_MS],
    [1, 0, 3_750],
    [4, 0, 30_000],
    [1, 0.999_999, 6_249.997_5],
    [20, 0, TRANSIENT_MAX_MS * 0.75],
  ])('puts back the receive %i (random %d) for %d ms', (receiveCount, random, delayMs) => {
    expect(transientBackoff(receiveCount, random)).toBeCloseTo(delayMs, 6);
  });
});

describe('jittered and putBackDelay', () => {
  it.each([
    [0, 0, 0],
    [0, 0.5, 500],
    [2_000, 1, 3_000],
    [10_000, 0.5, 11_250],
    [60_000, 0.5, 67_500],
    [60_000, 0, 60_000],
  ])('spreads %d ms with random %d to %d ms', (delayMs, random, spread) => {
    expect(jittered(delayMs, random)).toBe(spread);
  });

  it('puts a job refused tokens back until they come free, at least a second', () => {
    expect(putBackDelay(NOW + 2_500, NOW, 0)).toBe(2_500);
    expect(putBackDelay(NOW + 200, NOW, 0)).toBe(MIN_PUT_BACK_MS);
    expect(putBackDelay(NOW - 5_000, NOW, 0)).toBe(MIN_PUT_BACK_MS);
  });
});

describe('rateLimitHoldUntil', () => {
  it('holds the Page as long as Meta says, or a minute when it names no time', () => {
    expect(rateLimitHoldUntil(undefined, 120_000, NOW)).toBe(NOW + 120_000);
    expect(rateLimitHoldUntil(undefined, 0, NOW)).toBe(NOW + RATE_LIMIT_HOLD_MS);
    expect(rateLimitHoldUntil(undefined, undefined, NOW)).toBe(NOW + RATE_LIMIT_HOLD_MS);
  });

  it('takes remaining_seconds first, over the usage headers', () => {
    expect(rateLimitHoldUntil(30_000, 120_000, NOW)).toBe(NOW + 30_000);
  });
});

describe('pageHoldUntil', () => {
  const page = { now: NOW, pageZone: 'Asia/Tokyo' };

  it.each([
    [
      'a campaign not ready, no time named',
      'campaign-not-ready',
      undefined,
      NOW + CAMPAIGN_HOLD_MS,
    ],
    ['a campaign not ready, 20 min named', 'campaign-not-ready', 1_200_000, NOW + 1_200_000],
    // 09:00 UTC is 18:00 in Tokyo: the next day there starts at 15:00 UTC.
    ['a budget spent, no time named', 'budget', undefined, Date.parse('2026-11-21T15:00:00Z')],
    ['a budget spent, 30 min named', 'budget', 1_800_000, NOW + 1_800_000],
  ] as const)('holds %s', (_, why, remainingMs, until) => {
    expect(pageHoldUntil({ ...page, why, remainingMs })).toBe(until);
  });
});

describe('frequencyCapUntil', () => {
  it('rests a capped person a day, or as long as Meta names', () => {
    expect(frequencyCapUntil(undefined, NOW)).toBe(NOW + FREQUENCY_CAP_REST_MS);
    expect(FREQUENCY_CAP_REST_MS).toBe(24 * 3_600_000);
    expect(frequencyCapUntil(7_200_000, NOW)).toBe(NOW + 7_200_000);
  });
});

describe('cooldownRefusalRetryAt', () => {
  const base = {
    now: NOW,
    nextEligibleAt: undefined,
    sentBefore: true,
    afterCooldownFromNow: NOW + 86_400_000,
  };

  it.each([
    ['Meta’s own time first', { nextEligibleAt: NOW + 7_000, ourEarliest: NOW }, NOW + 7_000],
    [
      'shortly when our cooldown just ended',
      { ourEarliest: NOW - 60_000 },
      NOW + BOUNDARY_RETRY_MS,
    ],
    ['shortly when our cooldown ends right now', { ourEarliest: NOW }, NOW + BOUNDARY_RETRY_MS],
    [
      'a whole cooldown when ours ended long ago',
      { ourEarliest: NOW - BOUNDARY_WINDOW_MS },
      NOW + 86_400_000,
    ],
    ['a whole cooldown when ours is not over', { ourEarliest: NOW + 1 }, NOW + 86_400_000],
    [
      'a whole cooldown when we never sent',
      { sentBefore: false, ourEarliest: 0 },
      NOW + 86_400_000,
    ],
  ])('retries %s', (_, input, retryAt) => {
    expect(cooldownRefusalRetryAt({ ...base, ...input })).toBe(retryAt);
  });
});
