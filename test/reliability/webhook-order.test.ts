import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { duePartitionOf } from '#lib/aws/keys.ts';
import { mapWithConcurrency } from '#lib/concurrency.ts';
import { duePlacement } from '#lib/domain/due-placement.ts';
import { parseDelivery } from '#lib/domain/intake/meta-webhook.ts';
import type { SubscriptionEvent } from '#lib/domain/subscription.ts';
import { applyEvent, type Subscription, subscriptionId } from '#lib/domain/subscription.ts';
import type { Topic } from '#lib/domain/topic.ts';
import { type Harness, leakedSecrets, startHarness } from './support/harness.ts';
import { createPrng, seedFromEnv } from './support/prng.ts';

/**
 * Issue 9, scenario 1: 1,000 opt-in, stop and resume events for 200 people, each delivered one
 * to three times, in random order and random groupings, some deliveries repeated byte for byte,
 * signed and POSTed to the runtime's /webhook. The stored state must be what applying every
 * event once, in timestamp order, gives (the pure `applyEvent`).
 */
const SEED = seedFromEnv();
const random = createPrng(SEED);
const PAGE_ID = '3001';
const PAGE_ZONE = 'Europe/Paris';
const PEOPLE = 200;
const EVENTS = 1_000;
/** Meta retries a delivery that got no 2xx; so does this test, a few times. */
const DELIVERY_ATTEMPTS = 5;
const BASE_TIME = Date.parse('2026-11-02T08:00:00Z');

const TOPICS: Topic[] = [
  {
    pageId: PAGE_ID,
    topicId: 'deals',
    title: 'Daily deals',
    cadence: 'DAILY',
    sendTime: '09:00',
    message: { text: 'Today only' },
  },
  {
    pageId: PAGE_ID,
    topicId: 'digest',
    title: 'Weekly digest',
    cadence: 'WEEKLY',
    sendTime: '10:00',
    weekday: 1,
    message: { text: 'This week' },
  },
];
/** Opted in to by people, never defined: kept, but never in the due index. */
const UNDEFINED_TOPIC = 'ghost';
const ZONES = ['Europe/Paris', 'America/New_York', 'Asia/Kolkata', 'Australia/Sydney', 'Mars/Base'];
const STOP_SPELLINGS = ['STOP NOTIFICATIONS', 'STOP_NOTIFICATIONS', 'stop notifications'];
const RESUME_SPELLINGS = ['RESUME NOTIFICATIONS', 'RESUME_NOTIFICATIONS'];

/** One `messaging[]` event as Meta sends it, and the domain event it stands for. */
interface PlannedEvent {
  raw: Record<string, unknown>;
  event: SubscriptionEvent;
}

function planEvents(): PlannedEvent[] {
  const psids = Array.from({ length: PEOPLE }, (_, i) => String(2_600_000_000_000_000 + i * 7));
  const tokens = new Map<string, string>();
  const seen = new Set<string>();
  const planned: PlannedEvent[] = [];
  for (let i = 0; i < EVENTS; i++) {
    const psid = i < PEOPLE ? (psids[i] as string) : random.pick(psids);
    const topicId = random.chance(0.15) ? UNDEFINED_TOPIC : random.pick(TOPICS).topicId;
    const id = `${psid}#${topicId}`;
    // Unique per subscription and in generation order: ties would make the order undefined.
    const timestamp = BASE_TIME + i * 1_000 + random.int(0, 999);
    const roll = random.next();
    const kind = !seen.has(id)
      ? roll < 0.8
        ? 'optin'
        : roll < 0.9
          ? 'stop'
          : 'resume'
      : roll < 0.3
        ? 'optin'
        : roll < 0.65
          ? 'stop'
          : 'resume';
    seen.add(id);
    const optin: Record<string, unknown> = { type: 'notification_messages', payload: topicId };
    if (random.chance(0.7))
      optin.title = topicId === UNDEFINED_TOPIC ? 'Ghost' : `Title ${topicId}`;
    if (random.chance(0.6)) optin.notification_messages_timezone = random.pick(ZONES);
    if (kind === 'optin') {
      const token = `tok-${random.hex(24)}`;
      tokens.set(id, token);
      optin.notification_messages_token = token;
      if (random.chance(0.1)) optin.notification_messages_frequency = 'WEEKLY';
      if (random.chance(0.2)) {
        const expiry = timestamp + 180 * 86_400_000;
        optin.token_expiry_timestamp = random.chance(0.5) ? expiry : Math.floor(expiry / 1000);
      }
      if (random.chance(0.3)) optin.user_token_status = 'REFRESHED';
    } else {
      optin.notification_messages_status = random.pick(
        kind === 'stop' ? STOP_SPELLINGS : RESUME_SPELLINGS,
      );
      const token = tokens.get(id);
      if (token !== undefined && random.chance(0.6)) optin.notification_messages_token = token;
    }
    const raw = {
      sender: { id: psid },
      recipient: { id: PAGE_ID },
      // Meta sometimes writes timestamps as numeric strings.
      timestamp: random.chance(0.1) ? String(timestamp) : timestamp,
      optin,
    };
    const parsed = parseDelivery(delivery([raw])).events;
    const [event] = parsed;
    if (
      parsed.length !== 1 ||
      !event ||
      event.kind === 'inbound' ||
      event.kind === 'marketing-status'
    )
      throw new Error(`the planned event ${i} does not parse as one subscription event`);
    planned.push({ raw, event });
  }
  return planned;
}

function delivery(messaging: readonly Record<string, unknown>[]): string {
  return JSON.stringify({
    object: 'page',
    entry: [{ id: PAGE_ID, time: BASE_TIME, messaging }],
  });
}

/** The state every subscription must end in: each event applied once, oldest first. */
function expectedState(planned: readonly PlannedEvent[]): Map<string, Subscription> {
  const states = new Map<string, Subscription>();
  const ordered = [...planned].sort((a, b) => a.event.timestamp - b.event.timestamp);
  for (const { event } of ordered) {
    const id = subscriptionId(event);
    const applied = applyEvent(states.get(id), event, { pageZone: PAGE_ZONE });
    if (applied) states.set(id, applied.next);
  }
  return states;
}

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness('reliability-order');
  const page = await harness.admin('PUT', `/admin/pages/${PAGE_ID}`, {
    accessToken: 'order-page-token',
    timezone: PAGE_ZONE,
  });
  expect(page.status).toBe(200);
  for (const { topicId, ...topic } of TOPICS) {
    expect((await harness.admin('PUT', `/admin/topics/${topicId}`, topic)).status).toBe(200);
  }
});

afterAll(async () => {
  await harness?.stop();
});

describe('duplicate and reordered webhooks', () => {
  it(`end in the state of every event applied once in timestamp order (seed ${SEED})`, async () => {
    const planned = planEvents();
    const copies = random.shuffle(
      planned.flatMap((entry) => Array.from({ length: random.int(1, 3) }, () => entry.raw)),
    );
    const bodies: string[] = [];
    for (let at = 0; at < copies.length; ) {
      const size = random.int(1, 5);
      bodies.push(delivery(copies.slice(at, at + size)));
      at += size;
    }
    // Meta retries with the same bytes: some deliveries arrive twice, identical.
    const posts = random.shuffle([...bodies, ...bodies.filter(() => random.chance(0.1))]);

    let retried = 0;
    const statuses = await mapWithConcurrency(posts, 8, async (body) => {
      let answer = await harness.webhook(body);
      for (let attempt = 2; answer.status >= 500 && attempt <= DELIVERY_ATTEMPTS; attempt++) {
        retried++;
        answer = await harness.webhook(body);
      }
      return answer.status;
    });

    const expected = expectedState(planned);
    console.info(
      `webhook order (seed ${SEED}): ${planned.length} events for ${expected.size} subscriptions, ${copies.length} copies in ${posts.length} POSTs, ${retried} retried after a 5xx`,
    );
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    const stored = new Map(
      (await harness.items())
        .filter(
          (item) => String(item.pk).startsWith('SUB#') && String(item.sk).startsWith('TOPIC#'),
        )
        .map((item) => [`${PAGE_ID}#${String(item.psid)}#${String(item.topicId)}`, item]),
    );
    const topics = new Map(TOPICS.map((topic) => [topic.topicId, topic]));
    const differences: string[] = [];
    for (const [id, want] of expected) {
      const item = stored.get(id);
      const placement = duePlacement(want, topics.get(want.topicId));
      const wantDue = placement ? duePartitionOf(want, placement) : undefined;
      const got = item && {
        status: item.status,
        token: item.token,
        lastEventAt: item.lastEventAt,
        due: item.duePk,
      };
      const wanted = {
        status: want.status,
        token: want.token,
        lastEventAt: want.lastEventAt,
        due: wantDue,
      };
      if (JSON.stringify(got) !== JSON.stringify(wanted)) {
        differences.push(
          `${id}: stored ${JSON.stringify(got)}, expected ${JSON.stringify(wanted)}`,
        );
      }
    }
    expect(differences, `seed ${SEED}`).toEqual([]);
    expect(
      [...stored.keys()].filter((id) => !expected.has(id)),
      `seed ${SEED}`,
    ).toEqual([]);
    expect(expected.size).toBeGreaterThan(PEOPLE);
    const tokens = Object.fromEntries(
      planned.flatMap(({ event }, i) => (event.token ? [[`token ${i}`, event.token]] : [])),
    );
    expect(
      leakedSecrets([...harness.log.lines, ...harness.answers.map((a) => a.text)], {
        ...tokens,
        appSecret: harness.secrets.appSecret,
        adminToken: harness.secrets.adminToken,
      }),
    ).toEqual([]);
  }, 240_000);
});
