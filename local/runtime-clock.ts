import type { Clock } from '#lib/clock.ts';

/** The local runtime's one clock: it may start in the past or future, run fast, and jump ahead. */
export interface RuntimeClock extends Clock {
  /** Moves the clock to `ms`; refuses to go back. */
  advanceTo(ms: number): void;
  readonly speed: number;
}

/** Thrown when asked to move the clock backwards. */
export class ClockGoesBackError extends Error {
  override name = 'ClockGoesBackError';
}

/**
 * A clock that reads `start` at creation and then runs `speed` times as fast as real time.
 * With no start and speed 1 it is the wall clock.
 */
export function createRuntimeClock(
  options: { start?: number; speed?: number; realNow?: () => number } = {},
): RuntimeClock {
  const realNow = options.realNow ?? Date.now;
  const speed = options.speed ?? 1;
  let anchorReal = realNow();
  let anchorVirtual = options.start ?? anchorReal;
  const now = () => Math.floor(anchorVirtual + (realNow() - anchorReal) * speed);
  return {
    speed,
    now,
    advanceTo(ms) {
      const current = now();
      if (ms < current) {
        throw new ClockGoesBackError(
          `the clock only moves forward: it reads ${new Date(current).toISOString()}, asked for ${new Date(ms).toISOString()}`,
        );
      }
      anchorReal = realNow();
      anchorVirtual = ms;
    },
  };
}
