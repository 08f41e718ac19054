import { randomUUID } from 'node:crypto';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminDeps } from '#lib/aws/admin-deps.ts';
import { dynamoEditions } from '#lib/aws/dynamo-editions.ts';
import { dynamoSubscriptionStore } from '#lib/aws/dynamo-subscription-store.ts';
import { fanoutDeps } from '#lib/aws/fanout-deps.ts';
import { duePartitionOf, keys } from '#lib/aws/keys.ts';
import { senderDeps } from '#lib/aws/sender-deps.ts';
import { systemClock } from '#lib/clock.ts';
import { editionDateOf } from '#lib/domain/editions/edition-date.ts';
import { runFanout } from '#lib/domain/fanout/run-fanout.ts';
import type { SendJob } from '#lib/domain/send-job.ts';
import { sendBatch } from '#lib/domain/sending/send-batch.ts';
import { slotAtOrBefore } from '#lib/domain/slots.ts';
import { graphClient } from '#lib/graph/graph-client.ts';
import { createAdminHandler } from '../../functions/admin.ts';
import { anApiEvent } from '../support/api-event.ts';
import { captureLog } from '../support/capture-log.ts';
import { type GraphStandIn, startGraphStandIn } from '../support/graph-stand-in.ts';
import { createTestQueue, drainQueue } from '../support/queue.ts';
import { NO_QUIET_HOURS } from '../support/sender-harness.ts';
import { createTestTable } from '../support/table.ts';

const ADMIN_TOKEN = 'admin-token-for-editions';
const DAY = 86_400_000;
const RULE = { cadence: 'DAILY', sendTime: '09:00' } as const;
const ZONES = [
  'Pacific/Kiritimati',
  'Pacific/Chatham',
  'Europe/Paris',
  'America/St_Johns',
  'Pacific/Pago_Pago',
];
const context = {} as Context;

let db: Awaited<ReturnType<typeof createTestTable>>;
let queue: Awaited<ReturnType<typeof createTestQueue>>;
let graph: GraphStandIn;
let admin: ReturnType<typeof createAdminHandler>;
const log = captureLog();
let sequence = 0;
const unique = (prefix: string) => `${prefix}${++sequence}`;

async function call(
  method: string,
  path: string,
  options: { body?: unknown; query?: Record<string, string> } = {},
) {
  const response = await admin(
    anApiEvent({
      method,
      path,
      ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
      ...(options.query && { query: options.query }),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    }),
    context,
  );
  // biome-ignore lint/suspicious/noExplicitAny: answers are read as loosely as a client would.
  return { status: response.statusCode ?? 0, body: JSON.parse(response.body ?? 'null') as any };
}

async function aPage(): Promise<string> {
  const pageId = unique('77');
  const answer = await call('PUT', `/admin/pages/${pageId}`, {
    // No quiet hours: the sender runs on the wall clock, and these zones span the whole day.
    body: {
      accessToken: `page-secret-${pageId}`,
      timezone: 'Europe/Paris',
      quietHours: NO_QUIET_HOURS,
    },
  });
  expect(answer.status).toBe(200);
  return pageId;
}

async function aTopic(pageId: string, fields: Record<string, unknown> = {}): Promise<string> {
  const topicId = unique('deals-');
  const answer = await call('PUT', `/admin/topics/${topicId}`, {
    body: { pageId, title: unique('Deals '), ...RULE, message: { text: 'Our deals' }, ...fields },
  });
  expect(answer.status).toBe(200);
  return topicId;
}

const editionPath = (topicId: string, date: string) => `/admin/topics/${topicId}/editions/${date}`;

/** An active subscription, due in its zone, last sent long ago, as the webhook would store it. */
async function aSubscription(pageId: string, topicId: string, zone: string) {
  const psid = unique('5');
  const slot = slotAtOrBefore(RULE, zone, Date.now());
  const subscription = {
    pageId,
    psid,
    topicId,
    status: 'active',
    token: `notif-secret-${randomUUID()}`,
    timezone: zone,
    lastEventAt: Date.now() - 30 * DAY,
    activeSince: Date.now() - 30 * DAY,
    lastSlot: slot - 4 * DAY,
    lastSentAt: slot - 4 * DAY,
    version: 1,
  };
  await db.client.send(
    new PutCommand({
      TableName: db.table,
      Item: {
        ...keys.subscription(subscription),
        ...subscription,
        duePk: duePartitionOf(subscription, { cadence: 'DAILY', zone }),
        dueSk: psid,
      },
    }),
  );
  const job: SendJob = { pageId, psid, topicId, slot, scheduledTime: Date.now() };
  return { ...subscription, slot, date: editionDateOf(RULE, zone, slot), job };
}

function send(jobs: SendJob[]) {
  const deps = senderDeps(
    { dynamo: db.client, sqs: queue.client },
    { table: db.table, queueUrl: queue.queueUrl, burst: 10 },
    { graph: graphClient({ baseUrl: graph.url, version: 'v24.0' }), clock: systemClock, log },
  );
  const records = jobs.map((job) => ({
    id: randomUUID(),
    body: JSON.stringify(job),
    receiveCount: 1,
    handle: randomUUID(),
  }));
  return sendBatch(records, deps);
}

beforeAll(async () => {
  [db, queue, graph] = await Promise.all([
    createTestTable('editions'),
    createTestQueue('editions'),
    startGraphStandIn(),
  ]);
  const deps = adminDeps(
    { dynamo: db.client, sqs: queue.client },
    { table: db.table, queueUrl: queue.queueUrl, lookbackHours: 6 },
    {
      graph: graphClient({ baseUrl: graph.url, version: 'v24.0' }),
      clock: systemClock,
      log,
      continuations: { handOver: async () => {} },
    },
  );
  admin = createAdminHandler({ adminToken: ADMIN_TOKEN }, deps);
});

afterAll(async () => {
  await graph.close();
});

describe('the editions admin API', () => {
  it('saves, shows, lists and deletes the editions of a topic', async () => {
    const pageId = await aPage();
    const topicId = await aTopic(pageId);

    const created = await call('PUT', editionPath(topicId, '2026-12-05'), {
      body: { pageId, message: { text: '5 December: socks' } },
    });
    const replaced = await call('PUT', editionPath(topicId, '2026-12-05'), {
      body: { pageId, message: { text: '5 December: gloves' } },
    });
    await call('PUT', editionPath(topicId, '2026-12-07'), {
      body: { pageId, message: { text: 'hats' } },
    });
    const shown = await call('GET', editionPath(topicId, '2026-12-05'), { query: { pageId } });
    const listed = await call('GET', `/admin/topics/${topicId}/editions`, {
      query: { pageId, from: '2026-12-01', to: '2026-12-06' },
    });
    const deleted = await call('DELETE', editionPath(topicId, '2026-12-07'), { query: { pageId } });
    const gone = await call('GET', editionPath(topicId, '2026-12-07'), { query: { pageId } });

    expect(created).toMatchObject({
      status: 200,
      body: { created: true, edition: { date: '2026-12-05' } },
    });
    expect(replaced.body).toMatchObject({
      created: false,
      edition: { message: { text: '5 December: gloves' } },
    });
    expect(shown.body).toMatchObject({
      pageId,
      topicId,
      date: '2026-12-05',
      message: { text: '5 December: gloves' },
    });
    expect(shown.body.firstSentAt).toBeUndefined();
    expect(listed.body.items.map((item: { date: string }) => item.date)).toEqual(['2026-12-05']);
    expect(deleted).toEqual({ status: 200, body: { deleted: true, date: '2026-12-07' } });
    expect(gone.status).toBe(404);
  });

  it('refuses bad input with a 4xx naming what is wrong, and stores nothing', async () => {
    const pageId = await aPage();
    const topicId = await aTopic(pageId);
    const message = { text: 'fine' };

    const answers = await Promise.all([
      call('PUT', editionPath(topicId, '2026-02-30'), { body: { pageId, message } }),
      call('PUT', editionPath(topicId, 'tomorrow'), { body: { pageId, message } }),
      call('PUT', editionPath('no-such-topic', '2026-12-05'), { body: { pageId, message } }),
      call('PUT', editionPath(topicId, '2026-12-05'), { body: { pageId, message: { text: '' } } }),
      call('PUT', editionPath(topicId, '2026-12-06'), {
        body: { pageId, message: { text: 'x', colour: 'red' } },
      }),
      call('PUT', editionPath(topicId, '2026-12-08'), { body: { pageId } }),
      call('PUT', editionPath(topicId, '2026-12-09'), {
        body: { pageId, message: { text: 'Hi {{first_name}}' } },
      }),
      call('PUT', `/admin/topics/${topicId}`, {
        body: {
          pageId,
          title: 'Deals with a button',
          ...RULE,
          message: {
            attachment: {
              type: 'template',
              payload: {
                template_type: 'button',
                text: 'Deals',
                buttons: [{ type: 'web_url', title: 'Shop', url: 'http://shop.example' }],
              },
            },
          },
        },
      }),
      call('GET', `/admin/topics/${topicId}/editions`, {
        query: { pageId, from: '2026-12-09', to: '2026-12-01' },
      }),
      call('GET', `/admin/topics/${topicId}/editions`, {
        query: { pageId, from: '2026-01-01', to: '2027-06-01' },
      }),
    ]);

    expect(answers.map((answer) => [answer.status, answer.body.error.message])).toEqual([
      [400, 'date: must be a calendar date YYYY-MM-DD (from 2000)'],
      [400, 'date: must be a calendar date YYYY-MM-DD (from 2000)'],
      [404, `Page ${pageId} has no topic no-such-topic`],
      [400, 'message.text: must not be empty'],
      [400, 'message.colour: unknown field'],
      [400, 'message: required: a Send API message object'],
      [
        400,
        'message.text: {{first_name}} is filled in only on the marketing_messages route; Meta would send it as written',
      ],
      [400, 'message.attachment.payload.buttons.0.url: must be an https:// URL'],
      [400, 'from: 2026-12-09 is after to (2026-12-01)'],
      [400, 'to: the range is 517 days; at most 366'],
    ]);
    const listed = await call('GET', `/admin/topics/${topicId}/editions`, {
      query: { pageId, from: '2026-01-01', to: '2026-12-31' },
    });
    expect(listed.body.items).toEqual([]);
    const topics = await call('GET', '/admin/topics', { query: { pageId } });
    expect(topics.body.items.map((topic: { title: string }) => topic.title)).not.toContain(
      'Deals with a button',
    );
  });

  it('keeps whenNoEdition on the topic and refuses a value it does not know', async () => {
    const pageId = await aPage();
    const topicId = await aTopic(pageId, { whenNoEdition: 'skip' });

    const topics = await call('GET', '/admin/topics', { query: { pageId } });
    const bad = await call('PUT', `/admin/topics/${topicId}`, {
      body: { pageId, title: 'Other', ...RULE, message: { text: 'x' }, whenNoEdition: 'later' },
    });

    expect(topics.body.items).toEqual([
      expect.objectContaining({ topicId, whenNoEdition: 'skip' }),
    ]);
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^whenNoEdition: /);
  });

  it('refuses a route change that would leave a message Meta refuses there, and keeps the Page', async () => {
    const pageId = await aPage();
    const route = (deliveryRoute: string) =>
      call('PUT', `/admin/pages/${pageId}`, {
        body: { deliveryRoute, adAccountId: '881', campaignId: `${pageId}0` },
      });
    expect((await route('marketing_messages')).status).toBe(200);
    const named = await aTopic(pageId, { message: { text: 'Hello {{first_name}}' } });
    const plain = await aTopic(pageId);
    const tomorrow = new Date(Date.now() + DAY).toISOString().slice(0, 10);
    const edition = await call('PUT', editionPath(plain, tomorrow), {
      body: { pageId, message: { text: 'Tomorrow, {{first_name}}: hats' } },
    });
    expect(edition.status).toBe(200);

    const withTopic = await route('send_api');
    await call('PUT', `/admin/topics/${named}`, {
      body: { pageId, title: unique('Deals '), ...RULE, message: { text: 'Hello' } },
    });
    const withEdition = await route('send_api');
    await call('DELETE', editionPath(plain, tomorrow), { query: { pageId } });
    const clean = await route('send_api');

    expect(withTopic.status).toBe(400);
    expect(withTopic.body.error.message).toMatch(
      new RegExp(`^deliveryRoute: topic ${named}: message.text: \\{\\{first_name\\}\\}`),
    );
    expect(withEdition.status).toBe(400);
    expect(withEdition.body.error.message).toContain(`topic ${plain}, edition ${tomorrow}:`);
    expect(clean.status).toBe(200);
    expect(clean.body.page.deliveryRoute).toBe('send_api');
  });
});

describe('sending editions', () => {
  it("sends each subscriber their local date's edition, then refuses to change it", async () => {
    const pageId = await aPage();
    const topicId = await aTopic(pageId);
    const people = await Promise.all(ZONES.map((zone) => aSubscription(pageId, topicId, zone)));
    const dates = [...new Set(people.map((person) => person.date))].sort();
    for (const date of dates) {
      const answer = await call('PUT', editionPath(topicId, date), {
        body: { pageId, message: { text: `the deal of ${date}` } },
      });
      expect(answer.status).toBe(200);
    }

    const outcomes = await send(people.map((person) => person.job));

    expect(outcomes.map((outcome) => outcome.status === 'fulfilled' && outcome.value.kind)).toEqual(
      ZONES.map(() => 'sent'),
    );
    for (const person of people) {
      expect(graph.requestsFor(person.token).map((request) => request.body)).toEqual([
        expect.objectContaining({ message: { text: `the deal of ${person.date}` } }),
      ]);
    }
    const [first] = dates;
    const shown = await call('GET', editionPath(topicId, first ?? ''), { query: { pageId } });
    const change = await call('PUT', editionPath(topicId, first ?? ''), {
      body: { pageId, message: { text: 'too late' } },
    });
    const removal = await call('DELETE', editionPath(topicId, first ?? ''), { query: { pageId } });
    expect(shown.body.firstSentAt).toEqual(expect.any(String));
    expect(change.status).toBe(409);
    expect(change.body.error).toEqual({
      code: 'edition_sent',
      message: `the edition of topic ${topicId} for ${first} first went out at ${shown.body.firstSentAt}; an edition that has gone out cannot be changed or deleted`,
    });
    expect(removal.status).toBe(409);
    const from = dates[0] ?? '';
    const to = dates.at(-1) ?? '';
    const stats = await call('GET', '/admin/stats', { query: { pageId, topicId, from, to } });
    const listed = await call('GET', `/admin/topics/${topicId}/editions`, {
      query: { pageId, from, to },
    });
    const perDate = (date: string) => people.filter((person) => person.date === date).length;
    expect(
      stats.body.editions.map((entry: { date: string; sent: number }) => [entry.date, entry.sent]),
    ).toEqual(dates.map((date) => [date, perDate(date)]));
    expect(
      listed.body.items.map((item: { results: { sent: number } }) => item.results.sent),
    ).toEqual(dates.map(perDate));
  });

  it("sends the topic's own message on a date without an edition, or nothing when it skips", async () => {
    const pageId = await aPage();
    const plain = await aTopic(pageId);
    const skipping = await aTopic(pageId, { whenNoEdition: 'skip' });
    const [a, b] = await Promise.all([
      aSubscription(pageId, plain, 'Europe/Paris'),
      aSubscription(pageId, skipping, 'Europe/Paris'),
    ]);
    if (!a || !b) throw new Error('no subscriptions');

    const outcomes = await send([a.job, b.job]);

    expect(graph.requestsFor(a.token).map((request) => request.body)).toEqual([
      expect.objectContaining({ message: { text: 'Our deals' } }),
    ]);
    expect(graph.requestsFor(b.token)).toEqual([]);
    expect(outcomes[1]).toMatchObject({
      status: 'fulfilled',
      value: { kind: 'skipped', reason: 'no-edition', detail: `no edition for ${b.date}` },
    });
    const stats = await call('GET', '/admin/stats', {
      query: { pageId, topicId: skipping, from: b.date, to: b.date },
    });
    expect(stats.body.editions).toEqual([
      expect.objectContaining({ date: b.date, sent: 0, skipped: { 'no-edition': 1 } }),
    ]);
  });
});

describe('the fan-out and whenNoEdition: skip', () => {
  it('queues nobody whose local date has no edition', async () => {
    const pageId = await aPage();
    const topicId = await aTopic(pageId, { whenNoEdition: 'skip' });
    const editions = dynamoEditions(db.client, db.table);
    // 20:00 UTC on 4 December is 09:00 on 5 December in Kiritimati and 09:00 on 4 December in
    // Pago Pago; only 5 December has an edition.
    await editions.put({ pageId, topicId, date: '2026-12-05', message: { text: 'x' } }, 0);
    const kiritimati = await aSubscription(pageId, topicId, 'Pacific/Kiritimati');
    const pagoPago = await aSubscription(pageId, topicId, 'Pacific/Pago_Pago');
    await dynamoSubscriptionStore(db.client, db.table).addTopicZones(pageId, topicId, [
      { cadence: 'DAILY', zone: 'Pacific/Kiritimati' },
      { cadence: 'DAILY', zone: 'Pacific/Pago_Pago' },
    ]);
    await drainQueue(queue);

    const deps = fanoutDeps(
      { dynamo: db.client, sqs: queue.client },
      { table: db.table, queueUrl: queue.queueUrl, lookbackHours: 6 },
      { continuations: { handOver: async () => {} }, log },
    );
    await runFanout(
      { cadence: 'DAILY', scheduledTime: Date.parse('2026-12-04T20:00:00Z') },
      { ...deps, timeLeft: () => 900_000 },
    );
    const queued = (await drainQueue(queue)) as SendJob[];

    expect(queued.filter((job) => job.pageId === pageId).map((job) => job.psid)).toEqual([
      kiritimati.psid,
    ]);
    expect(pagoPago.psid).not.toBe(kiritimati.psid);
  });
});
