import { DateTime } from 'luxon';

/**
 * How long a job goes back to the queue, for every reason it can: Meta's cooldown refusals,
 * rate limits, transient failures, a Page's bucket out of tokens and Meta's holds on a Page;
 * and how long Meta's frequency cap keeps a person from sends.
 */

/** How soon a send Meta found a little early (by our record, on time) is tried again. */
export const BOUNDARY_RETRY_MS = 30_000;
/** A refusal this soon after our own earliest send time counts as one at the boundary. */
export const BOUNDARY_WINDOW_MS = 10 * 60_000;
/** How long a Page stops after a rate-limit error that names no time to regain access. */
export const RATE_LIMIT_HOLD_MS = 60_000;
/** The first transient retry's delay, doubled on every receive. */
export const TRANSIENT_BASE_MS = 5_000;
/** The longest transient retry delay, before jitter. */
export const TRANSIENT_MAX_MS = 15 * 60_000;
/** SQS visibility counts whole seconds: a shorter put-back would come straight back. */
export const MIN_PUT_BACK_MS = 1_000;
/** How long a Page's MM sends wait for a campaign that is not ready, when Meta names no time. */
export const CAMPAIGN_HOLD_MS = 60 * 60_000;
/** How long a person capped by Meta's frequency caps gets no send: "no retry that day". */
export const FREQUENCY_CAP_REST_MS = 24 * 60 * 60_000;

/**
 * The put-back after a transient failure on the `receiveCount`-th receive: exponential,
 * capped, then spread ±25 % by `random` (a number in [0, 1)).
 */
export function transientBackoff(receiveCount: number, random: number): number {
  const backoff = Math.min(TRANSIENT_MAX_MS, TRANSIENT_BASE_MS * 2 ** (receiveCount - 1));
  return backoff * (0.75 + random * 0.5);
}

/** Spreads many put-backs over time so they do not come back together (`random` in [0, 1)). */
export function jittered(delayMs: number, random: number): number {
  return delayMs + random * Math.max(1_000, delayMs * 0.25);
}

/** How long a job refused tokens stays on the queue: until they come free, jittered. */
export function putBackDelay(retryAt: number, now: number, random: number): number {
  return jittered(Math.max(MIN_PUT_BACK_MS, retryAt - now), random);
}

/**
 * Until when a Page stops after a rate-limit error: Meta's `remaining_seconds`, else its time
 * to regain access from the usage headers, else a minute.
 */
export function rateLimitHoldUntil(
  remainingMs: number | undefined,
  regainAccessMs: number | undefined,
  now: number,
): number {
  const regain = remainingMs ?? regainAccessMs ?? 0;
  return now + (regain > 0 ? regain : RATE_LIMIT_HOLD_MS);
}

/**
 * Until when Meta holds a Page's MM sends: `remaining_seconds` when Meta names it, else about
 * an hour for a campaign not ready, or the start of the next day in the Page's zone for a
 * budget spent ("resume tomorrow").
 */
export function pageHoldUntil(input: {
  why: 'campaign-not-ready' | 'budget';
  remainingMs: number | undefined;
  now: number;
  pageZone: string;
}): number {
  const { why, remainingMs, now } = input;
  if (remainingMs !== undefined && remainingMs > 0) return now + remainingMs;
  if (why === 'campaign-not-ready') return now + CAMPAIGN_HOLD_MS;
  const today = DateTime.fromMillis(now, { zone: input.pageZone });
  const zoned = today.isValid ? today : DateTime.fromMillis(now, { zone: 'UTC' });
  return zoned.plus({ days: 1 }).startOf('day').toMillis();
}

/** Until when a person Meta's frequency caps refused gets no send. */
export function frequencyCapUntil(remainingMs: number | undefined, now: number): number {
  return now + (remainingMs !== undefined && remainingMs > 0 ? remainingMs : FREQUENCY_CAP_REST_MS);
}

/**
 * When to try again a send Meta refused for the token's cooldown: when Meta says, else shortly
 * if by our own record the cooldown was just over (Meta saw the last send a little later than
 * the claim noted, a late request), else a whole cooldown from now.
 */
export function cooldownRefusalRetryAt(input: {
  now: number;
  /** Meta's own next eligible time, when it named one. */
  nextEligibleAt: number | undefined;
  /** Whether our record has a last send at all. */
  sentBefore: boolean;
  /** Our own earliest send time from that record. */
  ourEarliest: number;
  /** The earliest send time counting a whole cooldown from now. */
  afterCooldownFromNow: number;
}): number {
  const { now, ourEarliest } = input;
  const atBoundary =
    input.sentBefore && ourEarliest <= now && now - ourEarliest < BOUNDARY_WINDOW_MS;
  return (
    input.nextEligibleAt ?? (atBoundary ? now + BOUNDARY_RETRY_MS : input.afterCooldownFromNow)
  );
}
