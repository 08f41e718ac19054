import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyTake,
  type BucketState,
  effectiveRate,
  intervalMs,
  pageRate,
  planTake,
  strongerPressure,
  type TakePlan,
  tokenTimesAfterTake,
  usagePressure,
} from '#lib/domain/sending/rate-bucket.ts';

const NOW = Date.parse('2026-11-21T09:00:00Z');
const BURST = 10;
const request = (overrides: Partial<Parameters<typeof planTake>[1]> = {}) => ({
  tokens: 10,
  ratePerSecond: 20,
  now: NOW,
  maxWaitMs: 1_000,
  burst: BURST,
  ...overrides,
});

/** The plan of a take that was not refused. */
function granted(plan: TakePlan): Exclude<TakePlan, { kind: 'refuse' }> {
  if (plan.kind === 'refuse') throw new Error(`the take was refused: ${plan.reason}`);
  return plan;
}

describe('pageRate', () => {
  it('defaults a missing or nonsensical rate to 20 per second', () => {
    expect(pageRate(undefined)).toBe(20);
    expect(pageRate(0)).toBe(20);
    expect(pageRate(Number.NaN)).toBe(20);
  });

  it('caps the rate at Meta’s ceiling of 40 per second per Page', () => {
    expect(pageRate(1_000)).toBe(40);
    expect(pageRate(300)).toBe(40);
    expect(pageRate(41)).toBe(40);
    expect(pageRate(40)).toBe(40);
    expect(pageRate(25)).toBe(25);
  });
});

describe('planTake', () => {
  it('hands out an idle Page’s tokens from now on, one interval apart', () => {
    const plan = planTake({}, request());

    expect(plan).toEqual({ kind: 'idle', newTat: NOW + 500, cost: 500 });
    expect(tokenTimesAfterTake(NOW + 500, granted(plan), 10)).toEqual({
      sendAt: NOW,
      spacingMs: 50,
    });
  });

  it('lets a second batch wait for its tokens when the first is due within the max wait', () => {
    const plan = planTake({ tat: NOW + 500 }, request());

    expect(plan).toEqual({ kind: 'busy', cost: 500, maxTat: NOW + 1_000 });
    const after = applyTake({ tat: NOW + 500 }, plan, NOW);
    expect(after?.tat).toBe(NOW + 1_000);
    expect(tokenTimesAfterTake(after?.tat ?? 0, granted(plan), 10).sendAt).toBe(NOW + 500);
  });

  it('refuses when the first token is due later than the max wait, saying when to come back', () => {
    const plan = planTake({ tat: NOW + 1_600 }, request());

    // The first token would be due at tat = NOW + 1,600; back 1 s before that.
    expect(plan).toEqual({ kind: 'refuse', reason: 'rate', retryAt: NOW + 600 });
  });

  it('refuses a throttled Page until Meta lets it go', () => {
    const plan = planTake({ throttledUntil: NOW + 120_000 }, request());

    expect(plan).toEqual({ kind: 'refuse', reason: 'throttled', retryAt: NOW + 120_000 });
  });

  it('runs a slowed-down Page at its reduced rate until the slow-down ends', () => {
    const slowed: BucketState = { slowFactor: 0.5, slowUntil: NOW + 60_000 };

    expect(effectiveRate(20, slowed, NOW)).toBe(10);
    expect(effectiveRate(20, slowed, NOW + 60_000)).toBe(20);
    expect(planTake(slowed, request({ tokens: 5 }))).toEqual({
      kind: 'idle',
      newTat: NOW + 500,
      cost: 500,
    });
  });

  it('gives a take planned on a stale state the token times of the cost it wrote', () => {
    // This sender has not seen the slow-down another one wrote to the bucket.
    const known: BucketState = { tat: NOW + 500 };
    const truth: BucketState = { tat: NOW + 500, slowFactor: 0.5, slowUntil: NOW + 60_000 };
    const plan = planTake(known, request());

    const after = applyTake(truth, plan, NOW);

    // The tokens follow the last one taken, never overlap it.
    expect(tokenTimesAfterTake(after?.tat ?? 0, granted(plan), 10)).toEqual({
      sendAt: NOW + 500,
      spacingMs: 50,
    });
  });

  it('does not apply a plan whose condition no longer holds', () => {
    const idle = planTake({}, request());
    const busy = planTake({ tat: NOW + 100 }, request());

    expect(applyTake({ tat: NOW + 100 }, idle, NOW)).toBeUndefined();
    expect(applyTake({ tat: NOW + 5_000 }, busy, NOW)).toBeUndefined();
    expect(applyTake({ throttledUntil: NOW + 1 }, idle, NOW)).toBeUndefined();
  });
});

/**
 * Consumers that each know only what their own last write returned, racing on one bucket
 * the way senders race on the DynamoDB item.
 */
function simulate(
  rate: number,
  arrivals: readonly { at: number; consumer: number; tokens: number }[],
) {
  let truth: BucketState = {};
  const known = new Map<number, BucketState>();
  const sends: number[] = [];
  for (const { at, consumer, tokens } of [...arrivals].sort((a, b) => a.at - b.at)) {
    const take = request({ tokens, ratePerSecond: rate, now: at });
    for (let round = 0; round < 6; round++) {
      const plan = planTake(known.get(consumer) ?? {}, take);
      if (plan.kind === 'refuse') break;
      const next = applyTake(truth, plan, at);
      if (!next) {
        known.set(consumer, truth);
        continue;
      }
      truth = next;
      known.set(consumer, next);
      const { sendAt, spacingMs } = tokenTimesAfterTake(next.tat ?? at, plan, tokens);
      for (let token = 0; token < tokens; token++) sends.push(sendAt + token * spacingMs);
      break;
    }
  }
  return sends;
}

/** The most requests any one-second window holds, each request leaving at its token's time. */
function mostInAnySecond(sends: readonly number[]): number {
  const sorted = [...sends].sort((a, b) => a - b);
  let most = 0;
  let from = 0;
  for (const [i, at] of sorted.entries()) {
    while ((sorted[from] ?? at) <= at - 1_000) from++;
    most = Math.max(most, i - from + 1);
  }
  return most;
}

describe('the bucket under concurrent takers', () => {
  it('never lets any one-second window hold more than the rate', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1, 20, 25, 40),
        fc.array(
          fc.record({
            at: fc.integer({ min: 0, max: 5_000 }),
            consumer: fc.integer({ min: 0, max: 7 }),
            tokens: fc.integer({ min: 1, max: BURST }),
          }),
          { maxLength: 300 },
        ),
        (rate, arrivals) => {
          const sends = simulate(
            rate,
            arrivals.map((arrival) => ({ ...arrival, at: NOW + arrival.at })),
          );
          expect(mostInAnySecond(sends)).toBeLessThanOrEqual(rate);
        },
      ),
    );
  });

  it('keeps up with the rate when demand exceeds it', () => {
    // Eight consumers asking for a batch every 50 ms for ten seconds, at Meta's 40 per second.
    const arrivals = Array.from({ length: 200 }, (_, i) => ({
      at: NOW + i * 50,
      consumer: i % 8,
      tokens: 10,
    }));

    const sends = simulate(40, arrivals);

    // Ten seconds of demand, tokens granted up to the max wait (1 s) ahead.
    expect(sends.length).toBeGreaterThanOrEqual(40 * 10 - 10);
    expect(sends.length).toBeLessThanOrEqual(40 * 11);
  });
});

describe('usagePressure', () => {
  it('leaves a Page alone up to 80 %', () => {
    expect(usagePressure({ percent: 80, regainAccessMs: 0 }, NOW)).toEqual({ kind: 'none' });
    expect(usagePressure(undefined, NOW)).toEqual({ kind: 'none' });
  });

  it('scales the rate down above 80 %, to a tenth near 100 %', () => {
    expect(usagePressure({ percent: 90, regainAccessMs: 0 }, NOW)).toEqual({
      kind: 'slow',
      factor: 0.5,
      until: NOW + 60_000,
    });
    expect(usagePressure({ percent: 99.9, regainAccessMs: 0 }, NOW)).toMatchObject({
      factor: 0.1,
    });
  });

  it('stops a Page at 100 % or for the time Meta says it needs', () => {
    expect(usagePressure({ percent: 100, regainAccessMs: 0 }, NOW)).toEqual({
      kind: 'stop',
      until: NOW + 60_000,
    });
    expect(usagePressure({ percent: 40, regainAccessMs: 300_000 }, NOW)).toEqual({
      kind: 'stop',
      until: NOW + 300_000,
    });
  });

  it('keeps the stronger of two reports', () => {
    const slow = { kind: 'slow', factor: 0.5, until: NOW + 60_000 } as const;
    const slower = { kind: 'slow', factor: 0.2, until: NOW + 30_000 } as const;
    const stop = { kind: 'stop', until: NOW + 10_000 } as const;

    expect(strongerPressure(slow, slower)).toBe(slower);
    expect(strongerPressure(stop, slower)).toBe(stop);
    expect(strongerPressure({ kind: 'none' }, slow)).toBe(slow);
  });
});

describe('intervalMs', () => {
  it('rounds a token up to microseconds so stored instants stay exact', () => {
    expect(intervalMs(300)).toBe(3.334);
    expect(intervalMs(20)).toBe(50);
  });

  it('never fits more tokens than the rate into one second', () => {
    for (const rate of [7, 19, 20, 33, 38.4, 40]) {
      const interval = intervalMs(rate);
      // Tokens at 0, interval, 2 * interval, ...: those before 1,000 ms share the first second.
      expect(Math.ceil(1000 / interval)).toBeLessThanOrEqual(Math.ceil(rate));
    }
  });
});
