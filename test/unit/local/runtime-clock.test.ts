import { describe, expect, it } from 'vitest';
import { ClockGoesBackError, createRuntimeClock } from '../../../local/runtime-clock.ts';

function realTime(start = 1_000) {
  let now = start;
  return { now: () => now, pass: (ms: number) => (now += ms) };
}

describe('runtime clock', () => {
  it('starts at CLOCK_START and runs at CLOCK_SPEED', () => {
    const real = realTime();
    const clock = createRuntimeClock({
      start: Date.parse('2026-01-01T00:00:00Z'),
      speed: 60,
      realNow: real.now,
    });

    real.pass(1_000);

    expect(new Date(clock.now()).toISOString()).toBe('2026-01-01T00:01:00.000Z');
  });

  it('jumps forward and keeps running from there', () => {
    const real = realTime();
    const clock = createRuntimeClock({ start: 0, speed: 2, realNow: real.now });

    clock.advanceTo(10_000);
    real.pass(500);

    expect(clock.now()).toBe(11_000);
  });

  it('never goes back', () => {
    const clock = createRuntimeClock({ start: 5_000, realNow: realTime().now });

    expect(() => clock.advanceTo(4_000)).toThrow(ClockGoesBackError);
    expect(clock.now()).toBe(5_000);
  });

  it('is the wall clock by default', () => {
    const real = realTime(42_000);

    expect(createRuntimeClock({ realNow: real.now }).now()).toBe(42_000);
  });
});
