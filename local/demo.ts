import { mapWithConcurrency } from '#lib/concurrency.ts';
import { nextSlotAfter, type SlotRule } from '#lib/domain/slots.ts';
import { FANOUT_SCHEDULES } from '#lib/schedules.ts';
import { dayLine, liveLine, sendsChart, summaryTable, type TopicSend } from './demo-report.ts';
import type { Runtime } from './runtime.ts';
import { firstRunAtOrAfter, lastRunAtOrBefore } from './scheduler.ts';

/**
 * `npm start -- --demo`: five Pages, two topics each and N simulated people who opt in through
 * the real flow (they write, the Page asks, they accept), then a simulated week on the runtime
 * clock, jumping from one instant something is due to the next, with a progress line per day,
 * a summary, a chart, and a check of Meta's rules on what was sent.
 */
const ZONES = [
  'Europe/Paris',
  'Europe/London',
  'America/New_York',
  'America/Sao_Paulo',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'Asia/Tokyo',
  'Australia/Sydney',
  'Africa/Lagos',
  'Pacific/Auckland',
];
/**
 * People are spread over several Pages, as an agency's would be: each Page sends at most
 * Meta's 40 calls a second, and the Pages' sends of one instant go out side by side. A
 * small demo uses fewer, each with someone in every zone.
 */
const PAGE_COUNT = 5;
const PAGE_RATE_PER_SECOND = 40;
const PAGE_IDS = Array.from(
  { length: PAGE_COUNT },
  (_, i) => `demo-page-${String(i + 1).padStart(2, '0')}`,
);
const TOPICS = [
  { topicId: 'daily-deals', title: 'Daily deals', cadence: 'DAILY', sendTime: '09:00' },
  {
    topicId: 'weekly-digest',
    title: 'Weekly digest',
    cadence: 'WEEKLY',
    sendTime: '10:00',
    weekday: 1,
  },
] as const;
const DAY_MS = 24 * 3_600_000;
const WEEK_DAYS = 7;
const LEGACY_COOLDOWN_MS = 48 * 3_600_000;
/** Real time the send pipeline gets to come to rest after a jump before the demo gives up. */
const IDLE_TIMEOUT_MS = 180_000;
const IDLE_POLL_MS = 20;
const SETTLE_TIMEOUT_MS = 300_000;
const OPT_IN_CONCURRENCY = 16;
/** People who write to the Pages at once before the opt-in requests. */
const WRITE_WAVE = 100;
/**
 * Jobs the sender put back until a token's cooldown is over come due a pacing step apart:
 * the clock jumps this far past the first of them, so they come back together, each at most
 * this late, rather than a jump and a batch of one each.
 */
const PUT_BACK_GATHER_MS = 1_000;

export interface DemoResult {
  ok: boolean;
  people: number;
  sent: number;
  problems: string[];
}

export interface DemoOptions {
  people: number;
  adminToken: string;
  write: (text: string) => void;
  /** A terminal: redraw one live line with `\r`; otherwise print plain lines only. */
  live: boolean;
}

/** Runs the demo against a started runtime (with its simulator); resolves with the outcome. */
export async function runDemo(runtime: Runtime, options: DemoOptions): Promise<DemoResult> {
  if (!runtime.simulator)
    throw new Error('the demo needs the built-in Meta simulator: unset META_GRAPH_URL');
  const admin = adminClient(runtime.url, options.adminToken);
  const say = (line: string) => options.write(`${line}\n`);
  const pageIds = PAGE_IDS.slice(0, Math.ceil(options.people / ZONES.length));
  await registerPages(admin, pageIds);
  const editions = await putDailyEditions(admin, pageIds, runtime.clock.now());
  say(
    `${pageIds.length} Pages at ${PAGE_RATE_PER_SECOND} sends/s each, with topics ${TOPICS.map((topic) => topic.title).join(' and ')}`,
  );
  say(`  ${TOPICS[0].title} has an edition, a different deal, for each of ${editions} days`);
  const optInStarted = performance.now();
  const people = await optIn(runtime, admin, { ...options, pageIds });
  say(
    `  ${people.length} people wrote to a Page and opted in to both topics (${seconds(optInStarted)} s)`,
  );
  const zones = [...new Set(people.map((person) => person.timezone))];
  const start = runtime.clock.now();
  const weekStarted = performance.now();
  await liveThroughWeek(runtime, admin, options, { start, zones, pageIds });
  say(`  the simulated week took ${seconds(weekStarted)} s`);
  return summarise(runtime, { people: people.length, start }, say);
}

async function registerPages(admin: Admin, pageIds: readonly string[]): Promise<void> {
  for (const pageId of pageIds) {
    await admin('PUT', `/admin/pages/${pageId}`, {
      accessToken: `${pageId}-token`,
      timezone: 'Europe/Paris',
      ratePerSecond: PAGE_RATE_PER_SECOND,
    });
    for (const { topicId, ...topic } of TOPICS) {
      await admin('PUT', `/admin/topics/${topicId}`, {
        pageId,
        ...topic,
        message: { text: `${topic.title}: something worth opening` },
      });
    }
  }
}

/** Deals of the daily topic's editions, one a day in turn. */
const DEALS = [
  'socks 3 for 2',
  'winter hats -20 %',
  'free delivery on boots',
  'scarves -30 %',
  'gloves: second pair free',
  'umbrellas -25 %',
  'rain jackets -15 %',
];

/**
 * The daily topic's editions, a different deal each day, for every local date the week can
 * reach in any zone (a day either side of it); returns how many dates.
 */
async function putDailyEditions(admin: Admin, pageIds: readonly string[], start: number) {
  const dates = Array.from({ length: WEEK_DAYS + 3 }, (_, i) =>
    new Date(start + (i - 1) * DAY_MS).toISOString().slice(0, 10),
  );
  const topicId = TOPICS[0].topicId;
  for (const pageId of pageIds) {
    await mapWithConcurrency(dates, OPT_IN_CONCURRENCY, (date, i) =>
      admin('PUT', `/admin/topics/${topicId}/editions/${date}`, {
        pageId,
        message: { text: `${TOPICS[0].title}, ${date}: ${DEALS[i % DEALS.length]}` },
      }),
    );
  }
  return dates.length;
}

/** Every person writes to their Page, which asks them for both topics; they accept. */
async function optIn(
  runtime: Runtime,
  admin: Admin,
  options: DemoOptions & { pageIds: readonly string[] },
) {
  const simulator = runtime.simulator;
  if (!simulator) throw new Error('the demo needs the built-in Meta simulator');
  // Ten people in a row take the ten zones, then the next Page: every Page has every zone.
  const people = Array.from({ length: options.people }, (_, i) => ({
    psid: `demo-${String(i).padStart(6, '0')}`,
    pageId: options.pageIds[Math.floor(i / ZONES.length) % options.pageIds.length] ?? '',
    timezone: ZONES[i % ZONES.length] ?? 'UTC',
  }));
  // Everyone writes first, a wave at a time: Meta batches their webhooks per Page, and a
  // first delivery of 100 messages could outlast the webhook's 5 s on a cold DynamoDB Local.
  for (let start = 0; start < people.length; start += WRITE_WAVE) {
    for (const { psid, pageId, timezone } of people.slice(start, start + WRITE_WAVE)) {
      simulator.addPerson({ pageId, psid, timezone });
      simulator.personWrites(pageId, psid, 'hi');
    }
    await simulator.settle({ timeoutMs: SETTLE_TIMEOUT_MS });
  }
  // Then the Pages ask them, several requests at once; the acceptances arrive batched too.
  let asked = 0;
  await mapWithConcurrency(people, OPT_IN_CONCURRENCY, async ({ psid, pageId }) => {
    for (const { topicId } of TOPICS) {
      await admin('POST', `/admin/topics/${topicId}/optin-requests`, { psid, pageId });
    }
    asked++;
    if (options.live && asked % 100 === 0)
      options.write(`\r  opt-in requests: ${asked}/${people.length} people`);
  });
  await simulator.settle({ timeoutMs: SETTLE_TIMEOUT_MS });
  if (options.live) options.write('\r');
  return people;
}

/**
 * Moves the clock from one instant something can be due to the next (a fan-out run with a
 * topic's send time in some zone, or the time a put-back job waits for), waiting each time
 * for the send pipeline to come to rest; prints a line as each simulated day ends.
 */
async function liveThroughWeek(
  runtime: Runtime,
  admin: Admin,
  options: DemoOptions,
  week: { start: number; zones: readonly string[]; pageIds: readonly string[] },
): Promise<void> {
  const end = week.start + WEEK_DAYS * DAY_MS;
  let dayStart = week.start;
  let tally = { queued: 0, sent: 0, deferred: 0, failed: 0 };
  const count = async () => {
    tally = {
      queued: runtime.counters.queued,
      sent: tokenSends(runtime).length,
      ...(await totals(admin, week.pageIds)),
    };
  };
  for (;;) {
    const state = await pipelineAtRest(runtime);
    const now = runtime.clock.now();
    const next = Math.min(
      nextDueRun(week.zones, now),
      (state.nextWakeAt ?? Number.POSITIVE_INFINITY) + PUT_BACK_GATHER_MS,
    );
    while (dayStart + DAY_MS <= Math.min(next, end)) {
      await count();
      const line = dayLine({ day: dayStart, ...tally });
      options.write(options.live ? `\r${line.padEnd(100)}\n` : `${line}\n`);
      dayStart += DAY_MS;
    }
    if (next > end) break;
    await runtime.moveClock(next);
    if (options.live) {
      tally = { ...tally, queued: runtime.counters.queued, sent: tokenSends(runtime).length };
      options.write(`\r${liveLine(next, tally).padEnd(100)}`);
    }
  }
  if (options.live) options.write(`\r${' '.repeat(100)}\r`);
}

/**
 * The next fan-out run whose window holds a slot of some topic in some zone: the slots after
 * the last run at or before `now` (runs up to it have fired), each at the run that covers it.
 */
function nextDueRun(zones: readonly string[], now: number): number {
  let next = Number.POSITIVE_INFINITY;
  for (const topic of TOPICS) {
    const schedule = FANOUT_SCHEDULES.find((candidate) => candidate.cadence === topic.cadence);
    if (!schedule) throw new Error(`no fan-out schedule for ${topic.cadence}`);
    const rule: SlotRule = topic;
    const lastRun = lastRunAtOrBefore(schedule, now);
    for (const zone of zones) {
      next = Math.min(next, firstRunAtOrAfter(schedule, nextSlotAfter(rule, zone, lastRun)));
    }
  }
  return next;
}

/** Resolves once nothing runs and every job left waits on the clock. */
async function pipelineAtRest(runtime: Runtime) {
  const deadline = Date.now() + IDLE_TIMEOUT_MS;
  for (;;) {
    const state = await runtime.pipeline();
    if (state.idle) return state;
    if (Date.now() > deadline)
      throw new Error(`the send pipeline did not come to rest: ${JSON.stringify(state)}`);
    await new Promise((resolve) => setTimeout(resolve, IDLE_POLL_MS));
  }
}

/** Marketing messages sent with a token (the simulator also records the opt-in requests). */
function tokenSends(runtime: Runtime): TopicSend[] {
  return (runtime.simulator?.sent() ?? []).flatMap((entry) =>
    entry.token !== undefined && entry.topicId !== undefined
      ? [{ psid: entry.psid, token: entry.token, topicId: entry.topicId, at: entry.at }]
      : [],
  );
}

/** Prints the summary and the chart, and checks Meta's rules on what reached the simulator. */
function summarise(
  runtime: Runtime,
  week: { people: number; start: number },
  say: (line: string) => void,
): DemoResult {
  const sent = tokenSends(runtime);
  const problems: string[] = [];
  const byToken = new Map<string, number[]>();
  for (const entry of sent)
    byToken.set(entry.token, [...(byToken.get(entry.token) ?? []), entry.at]);
  for (const [token, times] of byToken) {
    times.sort((a, b) => a - b);
    for (let i = 1; i < times.length; i++) {
      const gap = (times[i] ?? 0) - (times[i - 1] ?? 0);
      if (gap < LEGACY_COOLDOWN_MS)
        problems.push(`a token got two sends ${gap} ms apart (${token.slice(0, 6)}…)`);
    }
  }
  for (const { topicId, title } of TOPICS) {
    const reached = new Set(
      sent.filter((entry) => entry.topicId === topicId).map((entry) => entry.psid),
    );
    if (reached.size < week.people)
      problems.push(`${week.people - reached.size} people never got ${title}`);
  }
  // A call over a Page's rate is one Meta refuses: the week did not hold its rules either.
  const overRate = runtime.simulator?.rateLimitErrors() ?? 0;
  if (overRate > 0) problems.push(`Meta refused ${overRate} calls over a Page's rate`);
  say('Summary of the simulated week');
  for (const line of summaryTable(TOPICS, sent)) say(line);
  say(`  Meta simulator: ${overRate} rate-limit errors`);
  say('Sends per day (UTC) and topic');
  for (const line of sendsChart(TOPICS, sent, { start: week.start, days: WEEK_DAYS })) say(line);
  say(
    problems.length === 0
      ? 'Meta rules held: no token got two sends within 48 h, no call over a Page’s rate, everyone got every topic.'
      : `Problems:\n  ${problems.join('\n  ')}`,
  );
  return { ok: problems.length === 0, people: week.people, sent: sent.length, problems };
}

function seconds(since: number): string {
  return ((performance.now() - since) / 1000).toFixed(0);
}

type Admin = (method: string, path: string, body?: unknown) => Promise<unknown>;

function adminClient(baseUrl: string, token: string): Admin {
  return async (method, path, body) => {
    const answer = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await answer.text();
    if (!answer.ok) throw new Error(`${method} ${path} answered ${answer.status}: ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
}

/** Deferred and failed jobs so far, summed over the demo's Pages (the admin API's counters). */
async function totals(
  admin: Admin,
  pageIds: readonly string[],
): Promise<{ deferred: number; failed: number }> {
  const answers = (await Promise.all(
    pageIds.map((pageId) => admin('GET', `/admin/stats?pageId=${pageId}`)),
  )) as { totals?: Record<string, number> }[];
  let deferred = 0;
  let failed = 0;
  for (const answer of answers) {
    deferred += answer.totals?.deferred ?? 0;
    failed += answer.totals?.failed ?? 0;
  }
  return { deferred, failed };
}
