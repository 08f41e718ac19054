/** The one source of time: epoch milliseconds. Locally it may be a virtual clock. */
export interface Clock {
  now(): number;
}

/** The wall clock, used by the Lambda functions on AWS. */
export const systemClock: Clock = { now: () => Date.now() };

/** A clock that stands still unless moved: for tests and replays. */
export function fixedClock(start: number): Clock & { set(ms: number): void } {
  let current = start;
  return {
    now: () => current,
    set: (ms) => {
      current = ms;
    },
  };
}
