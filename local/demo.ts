import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { createSqsClient } from '#lib/aws/clients.ts';
import { mapWithConcurrency } from '#lib/concurrency.ts';
import type { Runtime } from './runtime.ts';

/**
 * `npm start -- --demo`: a Page, two topics and N simulated people who opt in through the
 * real flow (they write, the Page asks, they accept), then a simulated week on the runtime
 * clock with a live progress line, a summary, and a check of Meta's rules on what was sent.
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
const PAGE_ID = 'demo-page';
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
const STEP_MS = 15 * 60_000;
const WEEK_MS = 7 * 24 * 3_600_000;
const LEGACY_COOLDOWN_MS = 48 * 3_600_000;

export interface DemoResult {
  ok: boolean;
  people: number;
  sent: number;
  problems: string[];
}

/** Runs the demo against a started runtime (with its simulator); resolves with the outcome. */
export async function runDemo(
  runtime: Runtime,
  options: { people: number; adminToken: string; write: (text: string) => void },
): Promise<DemoResult> {
  const { simulator } = runtime;
  if (!simulator)
    throw new Error('the demo needs the built-in Meta simulator: unset META_GRAPH_URL');
  const admin = adminClient(runtime.url, options.adminToken);
  const say = (line: string) => options.write(`${line}\n`);

  await admin('PUT', `/admin/pages/${PAGE_ID}`, {
    accessToken: 'demo-page-token',
    timezone: 'Europe/Paris',
    ratePerSecond: 40, // Meta's per-Page ceiling, the most the admin API accepts.
  });
  for (const { topicId, ...topic } of TOPICS) {
    await admin('PUT', `/admin/topics/${topicId}`, {
      pageId: PAGE_ID,
      ...topic,
      message: { text: `${topic.title}: something worth opening` },
    });
  }
  say(`Page ${PAGE_ID} with topics ${TOPICS.map((topic) => topic.title).join(' and ')}`);

  const people = Array.from({ length: options.people }, (_, i) => ({
    psid: `demo-${String(i).padStart(6, '0')}`,
    timezone: ZONES[i % ZONES.length] ?? 'UTC',
  }));
  let asked = 0;
  await mapWithConcurrency(people, 16, async ({ psid, timezone }) => {
    simulator.addPerson({ pageId: PAGE_ID, psid, timezone });
    simulator.personWrites(PAGE_ID, psid, 'hi');
    await simulator.settle({ dueOnly: true });
    for (const { topicId } of TOPICS) {
      await admin('POST', `/admin/topics/${topicId}/optin-requests`, { psid });
    }
    asked++;
    if (asked % 100 === 0) options.write(`\r  opt-in requests: ${asked}/${people.length} people`);
  });
  await simulator.settle({ timeoutMs: 120_000 });
  say(`\r  ${people.length} people wrote to the Page and opted in to both topics`);

  const start = runtime.clock.now();
  const sqs = createSqsClient();
  for (let at = start + STEP_MS; at <= start + WEEK_MS; at += STEP_MS) {
    await admin('POST', '/_local/clock', { now: new Date(at).toISOString() });
    await drained(sqs, runtime.queueUrls.send, () => tokenSends(runtime).length);
    const stats = await totals(admin);
    options.write(
      `\r  ${new Date(at).toISOString().slice(0, 16).replace('T', ' ')} UTC | queued ${runtime.counters.queued} | sent ${tokenSends(runtime).length} | deferred ${stats.deferred} | failed ${stats.failed}   `,
    );
  }
  say('');
  return summarise(runtime, people.length, say);
}

/** Marketing messages sent with a token (the simulator also records the opt-in requests). */
function tokenSends(runtime: Runtime) {
  return (runtime.simulator?.sent() ?? []).flatMap((entry) =>
    entry.token !== undefined && entry.topicId !== undefined
      ? [{ ...entry, token: entry.token, topicId: entry.topicId }]
      : [],
  );
}

function summarise(runtime: Runtime, people: number, say: (line: string) => void): DemoResult {
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
  say('Summary of the simulated week');
  for (const { topicId, title } of TOPICS) {
    const ofTopic = sent.filter((entry) => entry.topicId === topicId);
    const perPerson = new Map<string, number>();
    for (const entry of ofTopic) perPerson.set(entry.psid, (perPerson.get(entry.psid) ?? 0) + 1);
    const counts = [...perPerson.values()];
    say(
      `  ${title.padEnd(14)} ${String(ofTopic.length).padStart(7)} sends to ${perPerson.size} people (${Math.min(...counts, 0) || Math.min(...counts)} to ${Math.max(0, ...counts)} each)`,
    );
    if (perPerson.size < people)
      problems.push(`${people - perPerson.size} people never got ${title}`);
  }
  say(`  Meta simulator: ${runtime.simulator?.rateLimitErrors() ?? 0} rate-limit errors`);
  say(
    problems.length === 0
      ? '  Meta rules held: no token got two sends within 48 h.'
      : `  Problems:\n    ${problems.join('\n    ')}`,
  );
  return { ok: problems.length === 0, people, sent: sent.length, problems };
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

async function totals(admin: Admin): Promise<{ deferred: number; failed: number }> {
  const answer = (await admin('GET', `/admin/stats?pageId=${PAGE_ID}`)) as {
    totals?: Record<string, number>;
  };
  return { deferred: answer.totals?.deferred ?? 0, failed: answer.totals?.failed ?? 0 };
}

/**
 * Waits until the send queue has nothing visible and the sends stopped moving: at once when
 * nothing is in flight either, or after 2 s when only put-back (deferred) jobs remain.
 */
async function drained(
  sqs: ReturnType<typeof createSqsClient>,
  queueUrl: string,
  sentCount: () => number,
): Promise<void> {
  let last = -1;
  let stableSince = Date.now();
  for (;;) {
    const answer = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    const visible = Number(answer.Attributes?.ApproximateNumberOfMessages ?? 0);
    const inFlight = Number(answer.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
    const sent = sentCount();
    if (visible > 0 || sent !== last) stableSince = Date.now();
    last = sent;
    const stableMs = Date.now() - stableSince;
    if (visible === 0 && ((inFlight === 0 && stableMs >= 300) || stableMs >= 2_000)) return;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}
