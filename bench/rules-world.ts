import type { Page } from '#lib/domain/page.ts';
import type { Topic } from '#lib/domain/topic.ts';

/**
 * The population of the `rules` benchmark: two Pages (one per route), three topics each, people
 * in 24 zones, and what each person does over the run (opt-ins, stops, resumes, zone changes,
 * MM opt-outs), all drawn from one seed so every run lives the same year.
 */

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

export const LEGACY_PAGE = '3001';
export const MM_PAGE = '3002';
export const AD_ACCOUNT = '4242';
export const CAMPAIGN = '5151';

/** Zones where the legacy route still works (EU, UK, JP, KR, AU), and the others. */
const LEGACY_ZONES = [
  'Europe/Paris',
  'Europe/London',
  'Europe/Berlin',
  'Europe/Madrid',
  'Europe/Warsaw',
  'Europe/Athens',
  'Europe/Dublin',
  'Europe/Lisbon',
  'Asia/Tokyo',
  'Asia/Seoul',
  'Australia/Sydney',
  'Australia/Perth',
];
const MM_ZONES = [
  'America/New_York',
  'America/Chicago',
  'America/Denver',
  'America/Los_Angeles',
  'America/Sao_Paulo',
  'America/Mexico_City',
  'America/Bogota',
  'Asia/Kolkata',
  'Asia/Singapore',
  'Asia/Jakarta',
  'Asia/Manila',
  'Africa/Lagos',
];

/** The Pages as Recurrent stores them. */
export const PAGES: Page[] = [
  {
    pageId: LEGACY_PAGE,
    accessToken: 'legacy-page-token',
    deliveryRoute: 'send_api',
    ratePerSecond: 20,
    timezone: 'Europe/Paris',
    status: 'active',
  },
  {
    pageId: MM_PAGE,
    accessToken: 'mm-page-token',
    deliveryRoute: 'marketing_messages',
    adAccountId: AD_ACCOUNT,
    campaignId: CAMPAIGN,
    ratePerSecond: 20,
    timezone: 'America/New_York',
    status: 'active',
  },
];

/** DAILY 09:00, WEEKLY Monday 10:00, MONTHLY the 1st at 12:00, on each Page. */
export const TOPICS: Topic[] = PAGES.flatMap(({ pageId }) => [
  {
    pageId,
    topicId: 'daily',
    title: 'Daily deals',
    cadence: 'DAILY',
    sendTime: '09:00',
    message: { text: 'Today only' },
  },
  {
    pageId,
    topicId: 'weekly',
    title: 'Weekly digest',
    cadence: 'WEEKLY',
    weekday: 1,
    sendTime: '10:00',
    message: { text: 'This week' },
  },
  {
    pageId,
    topicId: 'monthly',
    title: 'Monthly news',
    cadence: 'MONTHLY',
    dayOfMonth: 1,
    sendTime: '12:00',
    message: { text: 'This month' },
  },
]);

/** One thing a person does at a time on the run's clock. */
export type PersonAction =
  | { kind: 'optin'; topics: string[] }
  | { kind: 'stop'; topicId: string }
  | { kind: 'resume'; topicId: string }
  | { kind: 'optout' }
  | { kind: 'zone'; zone: string };

export interface Person {
  psid: string;
  pageId: string;
  zone: string;
  topics: string[];
  /** What they do, oldest first (the first is the opt-in to `topics`). */
  plan: { at: number; action: PersonAction }[];
}

/** A small seeded generator (mulberry32): the same seed, the same run. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * `count` people over `days` from `start`: each opts in during the first six hours to a random
 * non-empty set of their Page's topics; 5 % stop a topic (legacy route, half resume later), 5 %
 * opt out of MM (no webhook; 40 % opt in again later), 5 % move zone (and opt in again there).
 */
export function population(count: number, start: number, days: number, seed: number): Person[] {
  const random = seeded(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const end = start + days * DAY_MS;
  const sometime = (from: number) => from + Math.floor(random() * (end - from));
  const people: Person[] = [];
  for (let i = 0; i < count; i++) {
    const legacy = random() < 0.5;
    const zones = legacy ? LEGACY_ZONES : MM_ZONES;
    const zone = pick(zones);
    const topics = ['daily', 'weekly', 'monthly'].filter(() => random() < 0.6);
    if (topics.length === 0) topics.push(pick(['daily', 'weekly', 'monthly']));
    const plan: Person['plan'] = [
      { at: start + Math.floor(random() * 6 * HOUR_MS), action: { kind: 'optin', topics } },
    ];
    // Changes start after a week: Meta allows one opt-in request per title per 7 days.
    const settled = start + 8 * DAY_MS;
    if (random() < 0.05) {
      const at = sometime(settled);
      plan.push({ at, action: { kind: 'zone', zone: pick(zones) } });
    }
    if (legacy && random() < 0.05) {
      const topicId = pick(topics);
      const at = sometime(settled);
      plan.push({ at, action: { kind: 'stop', topicId } });
      if (random() < 0.5) {
        plan.push({
          at: at + DAY_MS + Math.floor(random() * 30 * DAY_MS),
          action: { kind: 'resume', topicId },
        });
      }
    }
    if (!legacy && random() < 0.05) {
      const at = sometime(settled);
      plan.push({ at, action: { kind: 'optout' } });
      if (random() < 0.4) {
        const again = at + 3 * DAY_MS + Math.floor(random() * 60 * DAY_MS);
        plan.push({ at: again, action: { kind: 'optin', topics } });
      }
    }
    plan.sort((a, b) => a.at - b.at);
    people.push({
      psid: `${legacy ? 'l' : 'm'}${String(i).padStart(6, '0')}`,
      pageId: legacy ? LEGACY_PAGE : MM_PAGE,
      zone,
      topics,
      plan: plan.filter((step) => step.at < end),
    });
  }
  return people;
}
