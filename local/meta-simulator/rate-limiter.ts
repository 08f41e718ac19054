/**
 * Meta's per-Page call rate, counted over a sliding one-second window of REAL time: rate limits
 * protect Meta's servers, so a virtual clock running days per second must not stretch or shrink
 * them. The time source is injected (`realNow`, milliseconds, any origin) for tests.
 *
 * The usage a Page's answers report (`X-Business-Use-Case-Usage`) is its share of the Messenger
 * budget, 200 calls per engaged user per rolling 24 h (META_PLATFORM.md section 6), counted
 * in minutes of real time; while a Page is refused it reads 100 %. The budget is reported,
 * not enforced. A Page without people, or a caller giving no budget, reads the share of the
 * one-second window instead.
 */

export interface RateLimiterOptions {
  /** Real time in ms (any origin); default `performance.now`. */
  realNow?: () => number;
  /** Calls per second per key (Page) when the caller gives none; default 300, Meta's Send API limit. */
  perSecond?: number;
  /** App-wide calls per second that `X-App-Usage` reads as 100 %; default 2000. Not enforced. */
  appPerSecond?: number;
  /** How long a key stays refused once over its limit (real ms); default 0: only the window. */
  penaltyMs?: number;
}

/** One usage reading, in Meta's header units: percentages and minutes. */
export interface UsageReading {
  call_count: number;
  total_cputime: number;
  total_time: number;
}

export type Admission = { ok: true } | { ok: false; regainMs: number };

const WINDOW_MS = 1000;
/**
 * How long a call is kept for windows still to be decided. Calls are decided as of their
 * arrival, which can be a little out of order (`arrival-front.ts`), so a call is kept a second
 * longer than the window.
 */
export const KEPT_FOR_MS = 2 * WINDOW_MS;
const MINUTE_MS = 60_000;
const BUDGET_WINDOW_MINUTES = 24 * 60;
/** Meta's Messenger budget per engaged user per rolling 24 h. */
export const CALLS_PER_ENGAGED_USER = 200;

/** Minutes for `estimated_time_to_regain_access`: whole minutes, never 0 while refused. */
export function regainMinutes(regainMs: number): number {
  return Math.max(1, Math.ceil(regainMs / MINUTE_MS));
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;

/** Builds a limiter with one sliding window per key and one for the whole app. */
export function createRateLimiter(options: RateLimiterOptions = {}) {
  const realNow = options.realNow ?? (() => performance.now());
  const defaultPerSecond = options.perSecond ?? 300;
  const appPerSecond = options.appPerSecond ?? 2000;
  const penaltyMs = options.penaltyMs ?? 0;
  const windows = new Map<string, number[]>();
  const blockedUntil = new Map<string, number>();
  const appWindow: number[] = [];
  /** Accepted calls per key per minute of real time, for the 24 h budget. */
  const minutes = new Map<string, Map<number, number>>();

  function countMinute(key: string, now: number) {
    let counts = minutes.get(key);
    if (!counts) {
      counts = new Map();
      minutes.set(key, counts);
    }
    const minute = Math.floor(now / MINUTE_MS);
    counts.set(minute, (counts.get(minute) ?? 0) + 1);
  }

  function callsInBudgetWindow(key: string, now: number): number {
    const counts = minutes.get(key);
    if (!counts) return 0;
    const oldest = Math.floor(now / MINUTE_MS) - BUDGET_WINDOW_MINUTES + 1;
    let total = 0;
    for (const [minute, count] of counts) {
      if (minute < oldest) counts.delete(minute);
      else total += count;
    }
    return total;
  }

  /** Drops calls too old for any window still to be decided (`KEPT_FOR_MS`). */
  function prune(calls: number[], now: number) {
    let drop = 0;
    while (drop < calls.length && (calls[drop] ?? now) <= now - KEPT_FOR_MS) drop += 1;
    if (drop > 0) calls.splice(0, drop);
  }

  function callsOf(key: string, now: number): number[] {
    let calls = windows.get(key);
    if (!calls) {
      calls = [];
      windows.set(key, calls);
    }
    prune(calls, now);
    return calls;
  }

  function reading(count: number, limit: number): UsageReading {
    const percent = Math.min(100, Math.round((count / limit) * 100));
    // Meta reports time alongside calls; the simulator derives them from the call share.
    return {
      call_count: percent,
      total_cputime: Math.round(percent / 4),
      total_time: Math.round(percent / 2),
    };
  }

  return {
    /** Counts one call for `key` if it fits in the window; refused calls are not counted. */
    admit(key: string, perSecond = defaultPerSecond): Admission {
      const now = realNow();
      const until = blockedUntil.get(key);
      if (until !== undefined) {
        if (now < until) return { ok: false, regainMs: until - now };
        blockedUntil.delete(key);
      }
      const calls = callsOf(key, now);
      const inWindow = inWindowAt(calls, now);
      if (inWindow.length >= perSecond) {
        if (penaltyMs > 0) {
          blockedUntil.set(key, now + penaltyMs);
          return { ok: false, regainMs: penaltyMs };
        }
        const oldest = inWindow[0] ?? now;
        return { ok: false, regainMs: oldest + WINDOW_MS - now };
      }
      insertInOrder(calls, now);
      countMinute(key, now);
      prune(appWindow, now);
      insertInOrder(appWindow, now);
      return { ok: true };
    },

    /**
     * The key's usage now, as `X-Business-Use-Case-Usage` reports it: its share of `budget`
     * calls per 24 h (any call reads at least 1 %), or of the one-second window without one.
     */
    usage(key: string, perSecond = defaultPerSecond, budget?: number): UsageReading {
      const now = realNow();
      const until = blockedUntil.get(key);
      if (until !== undefined && now < until) return reading(perSecond, perSecond);
      if (budget === undefined || budget <= 0) {
        return reading(inWindowAt(callsOf(key, now), now).length, perSecond);
      }
      const calls = callsInBudgetWindow(key, now);
      return reading(calls > 0 ? Math.max(calls, budget / 100) : 0, budget);
    },

    /** The whole app's usage now, as `X-App-Usage` reports it. */
    appUsage(): UsageReading {
      const now = realNow();
      prune(appWindow, now);
      return reading(inWindowAt(appWindow, now).length, appPerSecond);
    },

    /** The calls-per-second limit used when a key has none of its own. */
    defaultPerSecond,
  };
}

/** The calls of the sliding second ending at `now`, oldest first (`calls` is in order). */
export function inWindowAt(calls: readonly number[], now: number): number[] {
  return calls.filter((at) => at > now - WINDOW_MS && at <= now);
}

/** Adds `at` to the ordered `calls`, from the end: calls come almost in order. */
export function insertInOrder(calls: number[], at: number): void {
  let position = calls.length;
  while (position > 0 && (calls[position - 1] ?? at) > at) position -= 1;
  calls.splice(position, 0, at);
}
