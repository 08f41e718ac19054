import type { FrequencyCap } from './graph-errors.ts';
import type { OrganicTraffic } from './organic-traffic.ts';

/**
 * Meta's frequency caps on marketing messages (META_PLATFORM.md 4.3), as the simulator rules
 * them where Meta is unsure: a message is refused when, counting it, marketing messages (of every
 * business) would be over 20 % of the person's conversations (organic and marketing) in the last 7 days, or over
 * 40 % in the last day, or when fewer than `minOrganicBetween` organic conversations came since
 * the last marketing message. A person with no organic conversation in 7 days is exempt.
 */

const DAY_MS = 24 * 3_600_000;
const WEEK_MS = 7 * DAY_MS;

/** The thresholds; defaults as Meta publishes them (the minimum is unpublished: 1). */
export interface FrequencyCapRules {
  weeklyShare?: number;
  dailyShare?: number;
  minOrganicBetween?: number;
}

/** The cap a marketing message to `person` at `now` runs into, or undefined when it may go. */
export function capFor(
  traffic: Pick<OrganicTraffic, 'between' | 'othersMarketingBetween'>,
  rules: FrequencyCapRules,
  person: string,
  /** The person's accepted marketing messages, oldest first (any older than 7 days ignored). */
  marketing: readonly number[],
  now: number,
): FrequencyCap | undefined {
  const organic = traffic.between(person, now - WEEK_MS, now);
  if (organic.length === 0) return undefined;
  // Caps count every business's marketing messages, not only this sender's.
  const others = traffic.othersMarketingBetween(person, now - WEEK_MS, now);
  const all = [...marketing.filter((at) => at > now - WEEK_MS && at <= now), ...others];
  const week = all.length;
  if ((week + 1) / (organic.length + week + 1) > (rules.weeklyShare ?? 0.2)) {
    return 'WEEKLY_MM_LOAD_CAP_REACHED';
  }
  const organicDay = organic.filter((at) => at > now - DAY_MS).length;
  const day = all.filter((at) => at > now - DAY_MS).length;
  if ((day + 1) / (organicDay + day + 1) > (rules.dailyShare ?? 0.4)) {
    return 'DAILY_MM_LOAD_CAP_REACHED';
  }
  const last = Math.max(marketing.at(-1) ?? -Infinity, others.at(-1) ?? -Infinity);
  const since = organic.filter((at) => at > last).length;
  if (since < (rules.minOrganicBetween ?? 1)) return 'MIN_ORGANIC_THREAD_NOT_REACHED';
  return undefined;
}
