import { describe, expect, it } from 'vitest';
import { fixedClock } from '#lib/clock.ts';
import { virtualSleep } from '../../../bench/rules-ports.ts';

describe('the rules benchmark’s virtual sleep', () => {
  it('wakes concurrent sleepers in time order, each at its own time', async () => {
    const clock = fixedClock(1_000);
    const sleep = virtualSleep(clock);
    const woke: [string, number][] = [];

    // Two Pages of one batch wait side by side: the later wait must not delay the earlier.
    await Promise.all([
      sleep(500).then(() => woke.push(['late', clock.now()])),
      sleep(100).then(() => woke.push(['early', clock.now()])),
    ]);

    expect(woke).toEqual([
      ['early', 1_100],
      ['late', 1_500],
    ]);
  });

  it('lets a woken sleeper sleep again before a later one wakes', async () => {
    const clock = fixedClock(0);
    const sleep = virtualSleep(clock);
    const woke: [string, number][] = [];

    await Promise.all([
      sleep(300).then(() => woke.push(['long', clock.now()])),
      (async () => {
        await sleep(100);
        await sleep(100);
        woke.push(['twice', clock.now()]);
      })(),
    ]);

    expect(woke).toEqual([
      ['twice', 200],
      ['long', 300],
    ]);
  });
});
