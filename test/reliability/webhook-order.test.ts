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
      event.kind === 'marketing-status' ||
      event.kind === 'policy'
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

/** The zones of ZONES a subscription can use (`Mars/Base` is no IANA zone). */
const VALID_ZONES = new Set(ZONES.filter((zone) => zone !== 'Mars/Base'));

/** The fields of a stored subscription that the events decide, the due-index key included. */
interface DecidedFields {
  status: unknown;
  token: unknown;
  lastEventAt: unknown;
  optedInAt: unknown;
  frequency: unknown;
  tokenExpiresAt: unknown;
  tokenStatus: unknown;
  timezone: unknown;
  timezoneAt: unknown;
  title: unknown;
  statusReason: unknown;
  due: unknown;
}

/**
 * What one subscription's events must leave, read off them by rules of their own (not
 * `applyEvent`): status from the newest event; token, expiry, frequency and token status
 * from the newest opt-in; the zone from the newest event naming a valid one (else the
 * Page's); in the due index while active with a token and a defined topic. An active one
 * became active at the first event after the newest stop, when its events arrive in order.
 */
function oracle(events: readonly SubscriptionEvent[]): {
  fields: DecidedFields;
  activeSince?: number;
} {
  const ordered = [...events].sort((a, b) => a.timestamp - b.timestamp);
  const newest = ordered.at(-1) as SubscriptionEvent;
  const newestOptIn = ordered.findLast((event) => event.kind === 'optin');
  const newestZone = ordered.findLast(
    (event) => event.timezone !== undefined && VALID_ZONES.has(event.timezone),
  );
  const status = newest.kind === 'stop' ? 'stopped' : 'active';
  const token = newestOptIn?.token ?? ordered.find((event) => event.token !== undefined)?.token;
  const frequency = newestOptIn?.kind === 'optin' ? newestOptIn.frequency : undefined;
  const timezone = newestZone?.timezone ?? PAGE_ZONE;
  const topic = TOPICS.find((candidate) => candidate.topicId === newest.topicId);
  const cadence = frequency ?? topic?.cadence;
  const due =
    status === 'active' && token !== undefined && topic && cadence !== undefined
      ? duePartitionOf(newest, { cadence, zone: timezone })
      : undefined;
  const fields: DecidedFields = {
    status,
    token,
    lastEventAt: newest.timestamp,
    optedInAt: newestOptIn?.timestamp,
    frequency,
    tokenExpiresAt: newestOptIn?.kind === 'optin' ? newestOptIn.tokenExpiresAt : undefined,
    tokenStatus: newestOptIn?.kind === 'optin' ? newestOptIn.tokenStatus : undefined,
    timezone,
    timezoneAt: newestZone?.timestamp,
    title: ordered.findLast((event) => event.title !== undefined)?.title,
    statusReason: undefined,
    due,
  };
  if (status !== 'active') return { fields };
  const lastStop = ordered.findLastIndex((event) => event.kind === 'stop');
  return { fields, activeSince: ordered[lastStop + 1]?.timestamp };
}

/** The same fields as a stored item holds them. */
function storedFields(item: Record<string, unknown>): DecidedFields {
  return {
    status: item.status,
    token: item.token,
    lastEventAt: item.lastEventAt,
    optedInAt: item.optedInAt,
    frequency: item.frequency,
    tokenExpiresAt: item.tokenExpiresAt,
    tokenStatus: item.tokenStatus,
    timezone: item.timezone,
    timezoneAt: item.timezoneAt,
    title: item.title,
    statusReason: item.statusReason,
    due: item.duePk,
  };
}

let harness: Harness;

beforeAll(async () => {
  // A stopped clock: no fan-out ever runs, so no slot that happens to fall while the test runs
  // sends to these tokens, which the simulator never issued (it would answer "invalid token").
  harness = await startHarness('reliability-order', {
    clockStart: BASE_TIME + 4 * 3_600_000,
    clockSpeed: 0,
  });
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
    const eventsOf = new Map<string, SubscriptionEvent[]>();
    for (const { event } of planned) {
      const id = subscriptionId(event);
      eventsOf.set(id, [...(eventsOf.get(id) ?? []), event]);
    }
    const disagreements: string[] = [];
    for (const [id, events] of eventsOf) {
      const item = stored.get(id);
      const want = oracle(events);
      const got = item && storedFields(item);
      if (JSON.stringify(got) !== JSON.stringify(want.fields)) {
        disagreements.push(
          `${id}: stored ${JSON.stringify(got)}, the events say ${JSON.stringify(want.fields)}`,
        );
      }
      // Out of order, a stop or opt-in that arrives after a newer event leaves `activeSince` as
      // it was (the in-order case is exact, below); it is still the time of an opt-in or resume.
      const activations = events.filter((event) => event.kind !== 'stop').map((e) => e.timestamp);
      const activeSince = item?.activeSince;
      if (
        want.activeSince !== undefined &&
        !(typeof activeSince === 'number' && activations.includes(activeSince))
      ) {
        disagreements.push(`${id}: active since ${String(activeSince)}, no opt-in or resume time`);
      }
    }
    expect(disagreements, `seed ${SEED}`).toEqual([]);
    expect(eventsOf.size).toBe(expected.size);
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

  it('ends, for events delivered in timestamp order, active since the first event after the newest stop', async () => {
    const at = Date.parse('2026-11-03T08:00:00Z');
    const optin = (psid: string, offset: number, token: string) => ({
      sender: { id: psid },
      recipient: { id: PAGE_ID },
      timestamp: at + offset,
      optin: {
        type: 'notification_messages',
        payload: 'deals',
        notification_messages_token: token,
      },
    });
    const status = (psid: string, offset: number, spelling: string) => ({
      sender: { id: psid },
      recipient: { id: PAGE_ID },
      timestamp: at + offset,
      optin: {
        type: 'notification_messages',
        payload: 'deals',
        notification_messages_status: spelling,
      },
    });
    const histories: Record<string, Record<string, unknown>[]> = {
      '2700000000000001': [
        optin('2700000000000001', 0, 'tok-a'),
        status('2700000000000001', 1_000, 'STOP NOTIFICATIONS'),
        status('2700000000000001', 2_000, 'RESUME NOTIFICATIONS'),
      ],
      '2700000000000002': [
        optin('2700000000000002', 0, 'tok-b'),
        optin('2700000000000002', 1_000, 'tok-c'),
      ],
      '2700000000000003': [
        optin('2700000000000003', 0, 'tok-d'),
        status('2700000000000003', 1_000, 'STOP NOTIFICATIONS'),
        optin('2700000000000003', 2_000, 'tok-e'),
        status('2700000000000003', 3_000, 'RESUME NOTIFICATIONS'),
      ],
    };

    const disagreements: string[] = [];
    for (const [psid, history] of Object.entries(histories)) {
      for (const raw of history) expect((await harness.webhook(delivery([raw]))).status).toBe(200);
      const events = parseDelivery(delivery(history)).events.filter(
        (event): event is SubscriptionEvent =>
          event.kind !== 'inbound' && event.kind !== 'marketing-status',
      );
      const want = oracle(events);
      const item = (await harness.items()).find(
        (candidate) => candidate.pk === `SUB#${PAGE_ID}#${psid}` && candidate.sk === 'TOPIC#deals',
      );
      const got = item && { ...storedFields(item), activeSince: item.activeSince };
      const wanted = { ...want.fields, activeSince: want.activeSince };
      if (JSON.stringify(got) !== JSON.stringify(wanted)) {
        disagreements.push(
          `${psid}: stored ${JSON.stringify(got)}, the events say ${JSON.stringify(wanted)}`,
        );
      }
    }

    expect(disagreements).toEqual([]);
  }, 60_000);
});
