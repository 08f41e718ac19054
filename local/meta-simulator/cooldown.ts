import { DateTime } from 'luxon';

/** The rhythm a token was created with; only tokens from before 2023 carry WEEKLY or MONTHLY. */
export type TokenFrequency = 'DAILY' | 'WEEKLY' | 'MONTHLY';

/** The two ways of sending with a token. */
export type SendRoute = 'send_api' | 'marketing_messages';

export const HOUR_MS = 3_600_000;
/** Legacy Send API, since Sep 2025: one send per token per rolling 48 h. */
export const LEGACY_COOLDOWN_MS = 48 * HOUR_MS;
/** Marketing Message API: one send per token per rolling 12 h. */
export const MARKETING_COOLDOWN_MS = 12 * HOUR_MS;

export interface CooldownInput {
  route: SendRoute;
  frequency?: TokenFrequency;
  /** The last send that counted against the cooldown, on either route (epoch ms). */
  lastSentAt?: number;
  /** IANA zone of the Page: calendar weeks and months are counted there. */
  pageZone: string;
  legacyCooldownMs: number;
  marketingCooldownMs: number;
}

/**
 * When a token may be used again on `route`: undefined when it was never used. WEEKLY tokens
 * get one send per calendar week (Monday 00:00 to Sunday 23:59 in the Page's zone), MONTHLY
 * one per calendar month, on the legacy route only; the new API counts 12 h for every token.
 */
export function nextEligibleAt(input: CooldownInput): number | undefined {
  const { lastSentAt } = input;
  if (lastSentAt === undefined) return undefined;
  if (input.route === 'marketing_messages') return lastSentAt + input.marketingCooldownMs;
  if (input.frequency === 'WEEKLY' || input.frequency === 'MONTHLY') {
    const unit = input.frequency === 'WEEKLY' ? 'week' : 'month';
    // Luxon's weeks are ISO weeks: they start on Monday. Local midnight survives DST.
    return DateTime.fromMillis(lastSentAt, { zone: input.pageZone })
      .startOf(unit)
      .plus(unit === 'week' ? { weeks: 1 } : { months: 1 })
      .toMillis();
  }
  return lastSentAt + input.legacyCooldownMs;
}
