import { describe, expect, it } from 'vitest';
import { createRateLimiter, regainMinutes } from '../../../../local/meta-simulator/rate-limiter.ts';

function aLimiter(options: { perSecond?: number; penaltyMs?: number; appPerSecond?: number } = {}) {
  let now = 10_000;
  const limiter = createRateLimiter({ realNow: () => now, ...options });
  return {
    limiter,
    advance: (ms: number) => {
      now += ms;
    },
    admitMany: (key: string, count: number, perSecond?: number) =>
      Array.from({ length: count }, () => limiter.admit(key, perSecond).ok),
  };
}

describe('the per-Page rate window', () => {
  it('admits the limit within one second and refuses the next call until the oldest ages out', () => {
    const { limiter, advance } = aLimiter({ perSecond: 3 });
    limiter.admit('1001');
    advance(400);
    limiter.admit('1001');
    limiter.admit('1001');

    expect(limiter.admit('1001')).toEqual({ ok: false, regainMs: 600 });
    advance(599);
    expect(limiter.admit('1001').ok).toBe(false);
    advance(1);
    expect(limiter.admit('1001').ok).toBe(true);
  });

  it('counts each Page apart and takes a Page limit over the default', () => {
    const { admitMany } = aLimiter({ perSecond: 2 });

    expect(admitMany('1001', 3)).toEqual([true, true, false]);
    expect(admitMany('2002', 2)).toEqual([true, true]);
    expect(admitMany('3003', 6, 5)).toEqual([true, true, true, true, true, false]);
  });

  it('does not count refused calls', () => {
    const { limiter, advance, admitMany } = aLimiter({ perSecond: 2 });
    admitMany('1001', 2);
    advance(500);
    admitMany('1001', 10);
    advance(500);

    expect(limiter.admit('1001').ok).toBe(true);
  });

  it('keeps a Page refused for the penalty once it went over', () => {
    const { limiter, advance, admitMany } = aLimiter({ perSecond: 2, penaltyMs: 90_000 });
    admitMany('1001', 2);

    expect(limiter.admit('1001')).toEqual({ ok: false, regainMs: 90_000 });
    advance(60_000);
    expect(limiter.admit('1001')).toEqual({ ok: false, regainMs: 30_000 });
    expect(limiter.usage('1001').call_count).toBe(100);
    advance(30_000);
    expect(limiter.admit('1001').ok).toBe(true);
  });

  it('reports usage as percentages of the Page and app limits', () => {
    const { limiter, admitMany } = aLimiter({ perSecond: 10, appPerSecond: 20 });
    admitMany('1001', 3);
    admitMany('2002', 1);

    expect(limiter.usage('1001')).toEqual({ call_count: 30, total_cputime: 8, total_time: 15 });
    expect(limiter.usage('1001', 300).call_count).toBe(1);
    expect(limiter.appUsage().call_count).toBe(20);
  });

  it('reports a Page’s usage as its share of the 24 h budget when it has one', () => {
    const { limiter, advance, admitMany } = aLimiter({ perSecond: 300 });
    admitMany('1001', 250);
    advance(60 * 60_000);
    admitMany('1001', 250);

    // 500 calls of a 1,000-call budget, however evenly paced: pacing is not pressure.
    expect(limiter.usage('1001', 300, 1_000).call_count).toBe(50);
    expect(limiter.usage('1001', 300, 1_000_000).call_count).toBe(1);
    advance(24 * 60 * 60_000);
    expect(limiter.usage('1001', 300, 1_000).call_count).toBe(0);
  });

  it('decides each call as of its arrival, which can come a little out of order', () => {
    let now = 10_500;
    const limiter = createRateLimiter({ realNow: () => now, perSecond: 2 });
    limiter.admit('1001');
    now = 10_100;
    limiter.admit('1001');

    // Arrived before both: the calls after it are not in its second.
    now = 10_050;
    expect(limiter.admit('1001').ok).toBe(true);
    now = 11_050;
    expect(limiter.admit('1001').ok).toBe(false);
    now = 11_110;
    expect(limiter.admit('1001').ok).toBe(true);
  });

  it('announces the wait in whole minutes, at least one', () => {
    expect([1, 60_000, 60_001, 300_000].map(regainMinutes)).toEqual([1, 1, 2, 5]);
  });
});
