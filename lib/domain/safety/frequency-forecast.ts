import type { ConversationHour } from './conversation-counts.ts';

/**
 * Whether one more marketing message would break Meta's frequency caps (META_PLATFORM.md 4.3:
 * refused when the person's marketing messages are over 20 % of their conversations in the last
 * 7 days, or over 40 % in the last day). As the simulator rules where Meta is unsure, the share
 * counts the new message: (marketing + 1) / (organic + marketing + 1), and a person with no
 * organic conversation in 7 days is exempt. Caps count across all businesses; this sees only
 * the Page's own conversations, so it foresees some refusals, never all, and it judges a window
 * only once the Page saw as many organic conversations in it as a first message needs.
 */

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Meta's published caps: a window and the largest share of marketing messages in it, in %. */
export const FREQUENCY_CAPS = [
  { name: 'weekly', windowMs: 7 * DAY_MS, percent: 20 },
  { name: 'daily', windowMs: DAY_MS, percent: 40 },
] as const;

/** Which cap the next message would break, with the counts that say so. */
export interface ForecastBreach {
  cap: (typeof FREQUENCY_CAPS)[number]['name'];
  organic: number;
  marketing: number;
}

/**
 * The cap a marketing message leaving at `at` would break, or undefined when it may go. Counts
 * are per hour, so a window's edge falls inside an hour: organic conversations of that hour are
 * left out and our marketing messages of it counted, so the hour never makes a send look safer.
 */
export function forecastFrequencyCap(
  hours: readonly ConversationHour[],
  at: number,
): ForecastBreach | undefined {
  for (const { name, windowMs, percent } of FREQUENCY_CAPS) {
    const from = at - windowMs;
    let organic = 0;
    let marketing = 0;
    for (const { hour, organic: o, marketing: m } of hours) {
      const start = hour * HOUR_MS;
      if (start > at) continue;
      if (start > from) organic += o;
      if (start + HOUR_MS > from) marketing += m;
    }
    // No organic conversation in 7 days: exempt (and nothing seen to forecast from).
    if (name === 'weekly' && organic === 0) return undefined;
    // Fewer organic conversations than a first message needs within the cap (4 a week, 2 a
    // day): the Page has seen too little of a person who talks to other businesses too (the
    // one message that opened an opt-in would hold every new subscriber for a week).
    if (100 > percent * (organic + 1)) continue;
    // Whole numbers: exactly 20 % (or 40 %) is within the cap.
    if (100 * (marketing + 1) > percent * (organic + marketing + 1)) {
      return { cap: name, organic, marketing };
    }
  }
  return undefined;
}

/** A breach as a skip's detail. */
export function describeBreach({ cap, organic, marketing }: ForecastBreach): string {
  const window = cap === 'weekly' ? '7 days' : '1 day';
  return `${cap} cap: ${marketing} marketing and ${organic} organic conversations in ${window}`;
}
