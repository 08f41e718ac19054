import { DEFAULT_RATE_PER_SECOND, MAX_RATE_PER_SECOND, MIN_RATE_PER_SECOND } from '../page.ts';

/**
 * A Page's send rate as a token bucket kept in the "theoretical arrival time" form (GCRA):
 * one number, `tat`, the instant at which the Page's last token taken is due. Taking `n`
 * tokens hands out the next `n` token times, `interval` apart from `max(tat, now)` on, and
 * pushes `tat` by `n * interval`; a take is granted when its first token is due within the
 * max wait. Every taker, on any machine, is serialised by one conditional write, and as each
 * request leaves at its own token's time no window of W seconds holds more than
 * `ceil(rate * W)` requests: a strict per-second limit at Meta is never crossed.
 */
export interface BucketState {
  /** Instant (epoch ms) at which the bucket is full again; absent or past: full now. */
  tat?: number;
  /** Meta asked the Page to stop until this instant (usage at 100 % or a rate-limit error). */
  throttledUntil?: number;
  /** While `slowUntil` is ahead, the Page runs at `slowFactor` of its rate (usage above 80 %). */
  slowFactor?: number;
  slowUntil?: number;
}

/** What one taker asks of the bucket. */
export interface TakeRequest {
  tokens: number;
  ratePerSecond: number;
  now: number;
  /** The longest a granted taker may have to wait for its first token. */
  maxWaitMs: number;
  /** The most tokens one take may ask for (one batch). */
  burst: number;
}

/** The one conditional write a take needs, or a refusal decided from what is known. */
export type TakePlan =
  | { kind: 'refuse'; reason: 'rate' | 'throttled'; retryAt: number }
  /** No token is due (`tat` absent or not after `now`): set `tat = now + cost`. */
  | { kind: 'idle'; newTat: number; cost: number }
  /** Tokens are still due (`now < tat <= maxTat`): add `cost` to `tat`. */
  | { kind: 'busy'; cost: number; maxTat: number };

/**
 * Senders pace at this share of the Page's rate, so a second at Meta holds at most 0.96 of the
 * rate on time, and about 41.7 ms of slack takes up requests that leave or arrive late (a busy
 * event loop, a new connection): see `LATE_TOLERANCE_MS` in `page-pacing.ts`.
 */
export const PACING_MARGIN = 0.96;

/**
 * The Page's configured rate, defaulted and bounded to what Meta allows: a Page stored above
 * Meta's per-Page ceiling (before the admin API refused such rates) runs at the ceiling.
 */
export function pageRate(ratePerSecond: number | undefined): number {
  if (ratePerSecond === undefined || !Number.isFinite(ratePerSecond) || ratePerSecond <= 0) {
    return DEFAULT_RATE_PER_SECOND;
  }
  return Math.min(MAX_RATE_PER_SECOND, Math.max(MIN_RATE_PER_SECOND, ratePerSecond));
}

/** Whether a stored rate is over Meta's per-Page ceiling, so `pageRate` runs it at the ceiling. */
export function isOverCeiling(ratePerSecond: number | undefined): boolean {
  return ratePerSecond !== undefined && ratePerSecond > MAX_RATE_PER_SECOND;
}

/** The rate the bucket runs at now: the Page's rate, scaled down while Meta reports high usage. */
export function effectiveRate(ratePerSecond: number, state: BucketState, now: number): number {
  const rate = pageRate(ratePerSecond);
  const slowed = state.slowUntil !== undefined && state.slowUntil > now;
  return slowed ? rate * clampFactor(state.slowFactor ?? 1) : rate;
}

/**
 * Milliseconds one token stands for at `rate` per second, rounded up to microseconds: rounded
 * down, 1/33 s would be 30.303 ms and one second could hold a 34th token.
 */
export function intervalMs(rate: number): number {
  return Math.ceil(1_000_000 / rate) / 1000;
}

/** Decides the write for one take from the last known state of the bucket. */
export function planTake(state: BucketState, request: TakeRequest): TakePlan {
  const { tokens, now, maxWaitMs, burst } = request;
  if (tokens < 1 || tokens > burst) {
    throw new RangeError(`a take needs 1 to ${burst} tokens, asked ${tokens}`);
  }
  if (state.throttledUntil !== undefined && state.throttledUntil > now) {
    return { kind: 'refuse', reason: 'throttled', retryAt: state.throttledUntil };
  }
  const interval = intervalMs(effectiveRate(request.ratePerSecond, state, now));
  const cost = round(tokens * interval);
  if (state.tat === undefined || state.tat <= now) {
    return { kind: 'idle', newTat: round(now + cost), cost };
  }
  // The first token is due at the current `tat`: at most the max wait ahead.
  const maxTat = round(now + maxWaitMs);
  if (state.tat > maxTat) {
    return { kind: 'refuse', reason: 'rate', retryAt: Math.max(now + 1, state.tat - maxWaitMs) };
  }
  return { kind: 'busy', cost, maxTat };
}

/**
 * Applies a plan the way the store's conditional write does, or returns undefined when its
 * condition does not hold on `state` (someone else took tokens meanwhile).
 */
export function applyTake(
  state: BucketState,
  plan: TakePlan,
  now: number,
): BucketState | undefined {
  if (state.throttledUntil !== undefined && state.throttledUntil > now) return undefined;
  if (plan.kind === 'idle') {
    if (state.tat !== undefined && state.tat > now) return undefined;
    return { ...state, tat: plan.newTat };
  }
  if (plan.kind === 'busy') {
    if (state.tat === undefined || state.tat <= now || state.tat > plan.maxTat) return undefined;
    return { ...state, tat: round(state.tat + plan.cost) };
  }
  return undefined;
}

/** The token times of a granted take: the first, then one every `spacingMs`. */
export interface TokenTimes {
  sendAt: number;
  spacingMs: number;
}

/**
 * When the tokens of a granted take are due, from the bucket's `tat` after the take and the
 * cost the write added: the take's tokens are the last `cost` before the new `tat`, whatever
 * the bucket's rate is by now (a slow-down another sender wrote meanwhile).
 */
export function tokenTimesAfterTake(
  newTat: number,
  plan: { cost: number },
  tokens: number,
): TokenTimes {
  return { sendAt: round(newTat - plan.cost), spacingMs: round(plan.cost / tokens) };
}

/** How Meta's usage report should change a Page's pace. */
export type UsagePressure =
  | { kind: 'none' }
  | { kind: 'slow'; factor: number; until: number }
  | { kind: 'stop'; until: number };

/** What Meta reports on every answer: the highest usage percentage and the announced wait. */
export interface UsageReport {
  /** Highest of call_count, total_time and total_cputime over every usage header, in %. */
  percent: number;
  /** `estimated_time_to_regain_access`, in ms (Meta sends minutes); 0 when none. */
  regainAccessMs: number;
}

/** Usage above this percentage slows the Page down before Meta does. */
export const SLOW_DOWN_ABOVE_PERCENT = 80;
/** How long one usage reading holds when Meta gives no time: usage is a rolling window. */
export const USAGE_HOLD_MS = 60_000;
const MIN_FACTOR = 0.1;

/**
 * Above 80 % the Page's rate scales down linearly to 10 % of it at 99 %; at 100 %, or when
 * Meta names a time to regain access, the Page stops until then.
 */
export function usagePressure(usage: UsageReport | undefined, now: number): UsagePressure {
  if (usage === undefined) return { kind: 'none' };
  if (usage.regainAccessMs > 0) return { kind: 'stop', until: now + usage.regainAccessMs };
  if (usage.percent >= 100) return { kind: 'stop', until: now + USAGE_HOLD_MS };
  if (usage.percent > SLOW_DOWN_ABOVE_PERCENT) {
    const factor = clampFactor((100 - usage.percent) / (100 - SLOW_DOWN_ABOVE_PERCENT));
    return { kind: 'slow', factor, until: now + USAGE_HOLD_MS };
  }
  return { kind: 'none' };
}

/** The stronger of two pressures: a stop over a slow-down, the later stop, the smaller factor. */
export function strongerPressure(a: UsagePressure, b: UsagePressure): UsagePressure {
  if (a.kind === 'none') return b;
  if (b.kind === 'none') return a;
  if (a.kind === 'stop' || b.kind === 'stop') {
    if (a.kind !== 'stop') return b;
    if (b.kind !== 'stop') return a;
    return a.until >= b.until ? a : b;
  }
  return a.factor < b.factor || (a.factor === b.factor && a.until >= b.until) ? a : b;
}

function clampFactor(factor: number): number {
  return Math.min(1, Math.max(MIN_FACTOR, factor));
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
