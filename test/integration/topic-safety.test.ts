import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminDeps } from '#lib/aws/admin-deps.ts';
import { dynamoTopicSafety } from '#lib/aws/dynamo-topic-safety.ts';
import { keys } from '#lib/aws/keys.ts';
import { fixedClock } from '#lib/clock.ts';
import { hourOf } from '#lib/domain/safety/stop-spike.ts';
import { graphClient } from '#lib/graph/graph-client.ts';
import { createAdminHandler } from '../../functions/admin.ts';
import { type MetaSimulator, startMetaSimulator } from '../../local/meta-simulator/index.ts';
import { anApiEvent } from '../support/api-event.ts';
import { captureLog } from '../support/capture-log.ts';
import { createTestQueue } from '../support/queue.ts';
import { createTestTable } from '../support/table.ts';

const ADMIN_TOKEN = 'admin-token-for-tests';
const NOW = Date.parse('2026-12-01T15:20:00Z');
const HOUR = 3_600_000;
const context = {} as Context;
const PAUSE = {
  at: NOW - HOUR,
  reason: "7 stops and blocks over 200 sends in 24 h (3.5 %), above the topic's 3 %",
  sends: 200,
  stops: 7,
  ratePercent: 3.5,
  thresholdPercent: 3,
};

let db: Awaited<ReturnType<typeof createTestTable>>;
let queue: Awaited<ReturnType<typeof createTestQueue>>;
let sim: MetaSimulator;
let admin: ReturnType<typeof createAdminHandler>;
let safety: ReturnType<typeof dynamoTopicSafety>;
const clock = fixedClock(NOW);
const log = captureLog();
let sequence = 0;
const unique = (prefix: string) => `${prefix}${++sequence}`;

async function call(method: string, path: string, body?: unknown, query?: Record<string, string>) {
  const response = await admin(
    anApiEvent({
      method,
      path,
      ...(body !== undefined && { body: JSON.stringify(body) }),
      ...(query && { query }),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    }),
    context,
  );
  // biome-ignore lint/suspicious/noExplicitAny: answers are read as loosely as a client would.
  return { status: response.statusCode ?? 0, body: JSON.parse(response.body ?? 'null') as any };
}

async function aPage() {
  const pageId = unique('77');
  sim.addPage({ id: pageId, accessToken: 'page-token', timezone: 'Europe/Paris' });
  const answer = await call('PUT', `/admin/pages/${pageId}`, {
    accessToken: 'page-token',
    timezone: 'Europe/Paris',
  });
  expect(answer.status).toBe(200);
  return pageId;
}

const aTopicBody = (pageId: string, fields: Record<string, unknown> = {}) => ({
  pageId,
  title: unique('Deals '),
  cadence: 'DAILY',
  sendTime: '09:00',
  message: { text: 'Today only' },
  ...fields,
});

async function storedTopic(pageId: string, topicId: string) {
  return (
    await db.client.send(new GetCommand({ TableName: db.table, Key: keys.topic(pageId, topicId) }))
  ).Item;
}

beforeAll(async () => {
  [db, queue, sim] = await Promise.all([
    createTestTable('safety'),
    createTestQueue('safety'),
    startMetaSimulator({ clock, appSecret: 'simulator-secret' }),
  ]);
  safety = dynamoTopicSafety(db.client, db.table);
  admin = createAdminHandler(
    { adminToken: ADMIN_TOKEN },
    adminDeps(
      { dynamo: db.client, sqs: queue.client },
      { table: db.table, queueUrl: queue.queueUrl, lookbackHours: 6 },
      {
        graph: graphClient({ baseUrl: sim.url, version: 'v24.0' }),
        clock,
        log,
        continuations: { handOver: async () => {} },
      },
    ),
  );
});

afterAll(async () => {
  await sim.stop();
});

describe('dynamoTopicSafety', () => {
  it('adds hourly counts atomically and reads back the hours asked for', async () => {
    const topicId = unique('t');
    const hour = hourOf(NOW);
    await Promise.all([
      safety.add(hour, [{ pageId: '1', topicId, sends: 3, stops: 1 }]),
      safety.add(hour, [{ pageId: '1', topicId, sends: 2, stops: 0 }]),
      safety.add(hour - 24, [{ pageId: '1', topicId, sends: 50, stops: 5 }]),
    ]);

    expect(await safety.readHours('1', topicId, hour - 23, hour)).toEqual([
      { hour, sends: 5, stops: 1 },
    ]);
    expect(await safety.readHours('1', topicId, hour - 24, hour)).toHaveLength(2);
  });

  it('pauses a topic once, and not a topic that does not exist', async () => {
    const pageId = await aPage();
    const topicId = unique('t');
    expect((await call('PUT', `/admin/topics/${topicId}`, aTopicBody(pageId))).status).toBe(200);

    expect(await safety.pauseTopic(pageId, topicId, PAUSE)).toBe(true);
    expect(await safety.pauseTopic(pageId, topicId, { ...PAUSE, stops: 9 })).toBe(false);
    expect(await safety.pauseTopic(pageId, 'gone', PAUSE)).toBe(false);

    expect((await storedTopic(pageId, topicId))?.paused).toEqual(PAUSE);
    expect(await storedTopic(pageId, 'gone')).toBeUndefined();
  });
});

describe('the admin API and a paused topic', () => {
  it('refuses a stop threshold outside 0-100 % with a 400 that names it, storing nothing', async () => {
    const pageId = await aPage();

    for (const stopThreshold of [-1, 100.5, '3']) {
      const answer = await call('PUT', '/admin/topics/odd', aTopicBody(pageId, { stopThreshold }));
      expect(answer.status).toBe(400);
      expect(answer.body.error.message).toBe('stopThreshold: must be a percentage from 0 to 100');
    }
    expect(await storedTopic(pageId, 'odd')).toBeUndefined();
  });

  it('shows the stop threshold, by default 3 %', async () => {
    const pageId = await aPage();
    await call('PUT', '/admin/topics/a', aTopicBody(pageId));
    await call('PUT', '/admin/topics/b', aTopicBody(pageId, { stopThreshold: 1.5 }));

    const answer = await call('GET', '/admin/topics', undefined, { pageId });

    expect(
      answer.body.items.map((topic: { stopThreshold: number }) => topic.stopThreshold),
    ).toEqual([3, 1.5]);
  });

  it('keeps the pause when an operator saves the topic, and lists it with its numbers', async () => {
    const pageId = await aPage();
    await call('PUT', '/admin/topics/deals', aTopicBody(pageId, { title: 'Deals' }));
    await safety.pauseTopic(pageId, 'deals', PAUSE);

    const saved = await call('PUT', '/admin/topics/deals', aTopicBody(pageId, { title: 'Deals!' }));
    const listed = await call('GET', '/admin/topics', undefined, { pageId });

    expect(saved.body.topic.paused).toEqual(PAUSE);
    expect(listed.body.items[0]).toMatchObject({ title: 'Deals!', paused: PAUSE });
  });

  it('resumes a paused topic, starting its 24 h after what its hour had counted', async () => {
    const pageId = await aPage();
    await call('PUT', '/admin/topics/deals', aTopicBody(pageId));
    await safety.add(hourOf(NOW), [{ pageId, topicId: 'deals', sends: 200, stops: 7 }]);
    await safety.pauseTopic(pageId, 'deals', PAUSE);

    const answer = await call('POST', '/admin/topics/deals/resume', { pageId });

    expect(answer).toMatchObject({
      status: 200,
      body: { pageId, topicId: 'deals', resumed: true, pause: PAUSE },
    });
    const stored = await storedTopic(pageId, 'deals');
    expect(stored?.paused).toBeUndefined();
    expect(stored?.breakerSince).toEqual({ at: NOW, sends: 200, stops: 7 });
  });

  it('says so when the topic was not paused', async () => {
    const pageId = await aPage();
    await call('PUT', '/admin/topics/deals', aTopicBody(pageId));

    const answer = await call('POST', '/admin/topics/deals/resume', { pageId });

    expect(answer).toMatchObject({ status: 200, body: { resumed: false } });
  });

  it('answers 404 for a topic that does not exist and 400 without a Page, writing nothing', async () => {
    const pageId = await aPage();

    const missing = await call('POST', '/admin/topics/nope/resume', { pageId });
    const noPage = await call('POST', '/admin/topics/nope/resume', {});

    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toBe(`topic nope of Page ${pageId} does not exist`);
    expect(noPage.status).toBe(400);
    expect(noPage.body.error.message).toMatch(/^pageId: /);
    expect(await storedTopic(pageId, 'nope')).toBeUndefined();
  });
});

describe('the admin API and quiet hours', () => {
  it('refuses a topic whose send time is inside the quiet hours, storing nothing', async () => {
    const pageId = await aPage();

    const answer = await call(
      'PUT',
      '/admin/topics/early',
      aTopicBody(pageId, { sendTime: '07:00' }),
    );

    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toBe(
      'sendTime: 07:00 is inside the default quiet hours 21:00-08:00, when nothing is sent; choose another time or set quietHours',
    );
    expect(await storedTopic(pageId, 'early')).toBeUndefined();
  });

  it.each([
    [{ start: '7:00', end: '08:00' }, 'quietHours.start: must be HH:mm, 00:00 to 23:59'],
    [{ start: '21:00', end: '24:00' }, 'quietHours.end: must be HH:mm, 00:00 to 23:59'],
    ['21:00-08:00', 'quietHours: must be {"start": "HH:mm", "end": "HH:mm"}'],
  ])('refuses quiet hours %o that are not HH:mm, naming the field', async (quietHours, message) => {
    const pageId = await aPage();

    const topic = await call('PUT', '/admin/topics/t', aTopicBody(pageId, { quietHours }));
    const page = await call('PUT', `/admin/pages/${pageId}`, { quietHours });

    expect(topic).toMatchObject({ status: 400, body: { error: { message } } });
    expect(page).toMatchObject({ status: 400, body: { error: { message } } });
    expect(await storedTopic(pageId, 't')).toBeUndefined();
  });

  it('saves a topic with quiet hours of its own, and a Page’s that silence none of its topics', async () => {
    const pageId = await aPage();
    const own = { start: '22:00', end: '06:00' };

    const topic = await call(
      'PUT',
      '/admin/topics/early',
      aTopicBody(pageId, { sendTime: '07:00', quietHours: own }),
    );
    const page = await call('PUT', `/admin/pages/${pageId}`, {
      quietHours: { start: '20:00', end: '09:00' },
    });

    expect(topic).toMatchObject({ status: 200, body: { topic: { quietHours: own } } });
    expect(page).toMatchObject({ status: 200, body: { page: { quietHours: { start: '20:00' } } } });
  });

  it('refuses Page quiet hours that would silence one of its topics, changing nothing', async () => {
    const pageId = await aPage();
    await call('PUT', '/admin/topics/evening', aTopicBody(pageId, { sendTime: '19:30' }));

    const answer = await call('PUT', `/admin/pages/${pageId}`, {
      quietHours: { start: '19:00', end: '08:00' },
    });

    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toMatch(/^quietHours: topic evening sends at 19:30/);
    const pages = await call('GET', '/admin/pages');
    const stored = pages.body.items.find((item: { pageId: string }) => item.pageId === pageId);
    expect(stored.quietHours).toBeUndefined();
  });
});
