import { GetCommand, PutCommand, paginateScan, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminDeps } from '#lib/aws/admin-deps.ts';
import { dynamoCatalog } from '#lib/aws/dynamo-catalog.ts';
import { dynamoContactStore } from '#lib/aws/dynamo-contact-store.ts';
import { dynamoFanoutRuns } from '#lib/aws/dynamo-fanout-store.ts';
import { dynamoSendStore } from '#lib/aws/dynamo-send-store.ts';
import { dynamoStatsStore } from '#lib/aws/dynamo-stats-store.ts';
import { keys, shardOf } from '#lib/aws/keys.ts';
import { DUE_SHARDS } from '#lib/aws/table-definition.ts';
import { webhookDeps } from '#lib/aws/webhook-deps.ts';
import { fixedClock } from '#lib/clock.ts';
import type { AdminDeps } from '#lib/domain/admin/ports.ts';
import type { FanoutInput } from '#lib/domain/fanout/run-fanout.ts';
import { applySubscriptionEvents } from '#lib/domain/intake/ingest-delivery.ts';
import type { Page } from '#lib/domain/page.ts';
import { createStatsTally } from '#lib/domain/stats.ts';
import type { SubscriptionEvent } from '#lib/domain/subscription.ts';
import type { Topic } from '#lib/domain/topic.ts';
import { graphClient } from '#lib/graph/graph-client.ts';
import { type AdminOptions, createAdminHandler } from '../../functions/admin.ts';
import { freePort } from '../../local/emulators.ts';
import { type MetaSimulator, startMetaSimulator } from '../../local/meta-simulator/index.ts';
import { anApiEvent } from '../support/api-event.ts';
import { captureLog } from '../support/capture-log.ts';
import { createTestQueue, drainQueue } from '../support/queue.ts';
import { createTestTable } from '../support/table.ts';

const ADMIN_TOKEN = 'admin-token-for-tests';
const NOW = Date.parse('2026-11-21T09:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const context = {} as Context;

let db: Awaited<ReturnType<typeof createTestTable>>;
let queue: Awaited<ReturnType<typeof createTestQueue>>;
let sim: MetaSimulator;
const clock = fixedClock(NOW);
const log = captureLog();
const handedOver: FanoutInput[] = [];
/** Every answer body the admin API gave in this file: none may carry a secret. */
const answers: string[] = [];
/** Every Page access token and subscription token used in this file. */
const secrets = new Set<string>();
let sequence = 0;

function unique(prefix: string): string {
  sequence += 1;
  return `${prefix}${sequence}`;
}

function secret(prefix: string): string {
  const value = unique(`${prefix}-secret-`);
  secrets.add(value);
  return value;
}

function deps(overrides: Partial<AdminDeps> = {}, graphUrl = sim.url): AdminDeps {
  return {
    ...adminDeps(
      { dynamo: db.client, sqs: queue.client },
      { table: db.table, queueUrl: queue.queueUrl, lookbackHours: 6 },
      {
        graph: graphClient({ baseUrl: graphUrl, version: 'v24.0' }),
        clock,
        log,
        continuations: {
          handOver: async (input) => {
            handedOver.push(input);
          },
        },
      },
    ),
    ...overrides,
  };
}

interface Call {
  body?: unknown;
  rawBody?: string;
  query?: Record<string, string>;
  token?: string | null;
}

async function callWith(
  handler: ReturnType<typeof createAdminHandler>,
  method: string,
  path: string,
  call: Call = {},
) {
  const token = call.token === undefined ? ADMIN_TOKEN : call.token;
  const text = call.rawBody ?? (call.body === undefined ? undefined : JSON.stringify(call.body));
  const response = await handler(
    anApiEvent({
      method,
      path,
      ...(text !== undefined && { body: text }),
      ...(call.query && { query: call.query }),
      headers: {
        'content-type': 'application/json',
        ...(token !== null && { authorization: `Bearer ${token}` }),
      },
    }),
    context,
  );
  answers.push(response.body ?? '');
  return {
    status: response.statusCode ?? 0,
    // biome-ignore lint/suspicious/noExplicitAny: answers are read as loosely as a client would.
    body: JSON.parse(response.body ?? 'null') as any,
  };
}

let admin: ReturnType<typeof createAdminHandler>;
const call = (method: string, path: string, options?: Call) =>
  callWith(admin, method, path, options);

function handlerWith(options: AdminOptions, overrides: Partial<AdminDeps> = {}, graphUrl?: string) {
  return createAdminHandler(options, deps(overrides, graphUrl));
}

/** A Page registered through the API and known to the simulator. */
async function aPage(fields: Partial<Page> = {}) {
  const pageId = fields.pageId ?? unique('90');
  const accessToken = fields.accessToken ?? secret('page');
  const timezone = fields.timezone ?? 'Europe/Paris';
  sim.addPage({ id: pageId, accessToken, timezone });
  const answer = await call('PUT', `/admin/pages/${pageId}`, {
    body: {
      accessToken,
      timezone,
      ...(fields.deliveryRoute && { deliveryRoute: fields.deliveryRoute }),
    },
  });
  expect(answer.status).toBe(200);
  return { pageId, accessToken, timezone };
}

const aTopicBody = (pageId: string, fields: Record<string, unknown> = {}) => ({
  pageId,
  title: unique('Daily deals '),
  cadence: 'DAILY',
  sendTime: '09:00',
  message: { text: 'Today only' },
  ...fields,
});

async function aTopic(pageId: string, fields: Record<string, unknown> = {}) {
  const topicId = (fields.topicId as string | undefined) ?? unique('topic-');
  const { topicId: _ignored, ...rest } = fields;
  const answer = await call('PUT', `/admin/topics/${topicId}`, { body: aTopicBody(pageId, rest) });
  expect(answer.status).toBe(200);
  return answer.body.topic as Topic;
}

/** Opt-in, stop or resume events applied through the webhook's own code. */
async function webhookEvents(events: SubscriptionEvent[]) {
  await applySubscriptionEvents(
    events,
    webhookDeps(db.client, db.table, { clock, log }),
    createStatsTally(),
  );
}

function anOptIn(fields: Partial<SubscriptionEvent> & { pageId: string; topicId: string }) {
  const psid = fields.psid ?? unique('5');
  return {
    kind: 'optin',
    psid,
    timestamp: NOW - 2 * DAY,
    token: secret(`tok-${psid}`),
    timezone: 'Europe/Paris',
    ...fields,
  } as SubscriptionEvent;
}

async function item(key: Record<string, string>) {
  return (await db.client.send(new GetCommand({ TableName: db.table, Key: key }))).Item;
}

async function subscription(pageId: string, psid: string, topicId: string) {
  return item(keys.subscription({ pageId, psid, topicId }));
}

async function itemsUnder(pk: string) {
  const found: Record<string, unknown>[] = [];
  for await (const page of paginateScan({ client: db.client }, { TableName: db.table })) {
    found.push(...(page.Items ?? []).filter((entry) => entry.pk === pk));
  }
  return found;
}

beforeAll(async () => {
  [db, queue, sim] = await Promise.all([
    createTestTable('admin'),
    createTestQueue('admin'),
    startMetaSimulator({ clock, appSecret: 'simulator-secret' }),
  ]);
  admin = handlerWith({ adminToken: ADMIN_TOKEN });
});

afterAll(async () => {
  await sim.stop();
});

describe('authorization', () => {
  it('refuses a request without the bearer token with 401', async () => {
    const answer = await call('GET', '/admin/pages', { token: null });

    expect(answer.status).toBe(401);
    expect(answer.body).toEqual({
      error: { code: 'unauthorized', message: expect.stringContaining('Bearer') },
    });
  });

  it('refuses a wrong bearer token, of any length, with 401', async () => {
    for (const token of ['x', `${ADMIN_TOKEN}x`, ADMIN_TOKEN.toUpperCase()]) {
      expect((await call('GET', '/admin/pages', { token })).status).toBe(401);
    }
  });

  it('answers 401 before telling whether a route exists', async () => {
    expect((await call('GET', '/admin/nothing', { token: null })).status).toBe(401);
  });

  it('needs no bearer token when none is configured (IAM checked the caller on AWS)', async () => {
    const onAws = handlerWith({});

    const answer = await callWith(onAws, 'GET', '/admin/pages', { token: null });

    expect(answer.status).toBe(200);
  });
});

describe('routing', () => {
  it('answers 404 for an unknown route', async () => {
    const answer = await call('GET', '/admin/nothing');

    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe('not_found');
  });

  it('answers 405 naming the allowed methods for a wrong method on a known path', async () => {
    const pages = await call('DELETE', '/admin/pages');
    const stats = await call('POST', '/admin/stats');

    expect(pages.status).toBe(405);
    expect(pages.body.error).toEqual({
      code: 'method_not_allowed',
      message: expect.stringContaining('use GET'),
    });
    expect(stats.status).toBe(405);
  });

  it('answers 400 for a body that is not JSON', async () => {
    const answer = await call('PUT', '/admin/pages/1', { rawBody: '{"accessToken": ' });

    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('malformed_json');
  });
});

describe('PUT /admin/pages/{pageId}', () => {
  it('registers a Page with the defaults and never answers its token', async () => {
    const accessToken = secret('page');

    const answer = await call('PUT', '/admin/pages/7001', { body: { accessToken } });

    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      created: true,
      page: {
        pageId: '7001',
        deliveryRoute: 'send_api',
        ratePerSecond: 20,
        timezone: 'UTC',
        status: 'active',
        hasAccessToken: true,
      },
    });
    expect(await item(keys.page('7001'))).toMatchObject({ accessToken });
    expect(await item(keys.pageRegistry('7001'))).toBeDefined();
  });

  it('keeps the stored token when an update leaves it out', async () => {
    const accessToken = secret('page');
    await call('PUT', '/admin/pages/7002', { body: { accessToken } });

    const answer = await call('PUT', '/admin/pages/7002', {
      body: { timezone: 'Asia/Kolkata', ratePerSecond: 40 },
    });

    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      created: false,
      page: { timezone: 'Asia/Kolkata', ratePerSecond: 40, hasAccessToken: true },
    });
    expect(await item(keys.page('7002'))).toMatchObject({ accessToken, timezone: 'Asia/Kolkata' });
  });

  it('registers the marketing route with its ad account (act_ prefix dropped) and campaign', async () => {
    const answer = await call('PUT', '/admin/pages/7003', {
      body: {
        accessToken: secret('system'),
        deliveryRoute: 'marketing_messages',
        adAccountId: 'act_777',
        campaignId: '12345',
      },
    });

    expect(answer.status).toBe(200);
    expect(answer.body.page).toMatchObject({
      deliveryRoute: 'marketing_messages',
      adAccountId: '777',
      campaignId: '12345',
    });
  });

  it('clears why a Page was paused when it is made active again', async () => {
    await call('PUT', '/admin/pages/7004', { body: { accessToken: secret('page') } });
    await db.client.send(
      new UpdateCommand({
        TableName: db.table,
        Key: keys.page('7004'),
        UpdateExpression: 'SET #status = :paused, pausedReason = :reason',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':paused': 'paused', ':reason': 'Meta error 190' },
      }),
    );

    const answer = await call('PUT', '/admin/pages/7004', { body: { status: 'active' } });

    expect(answer.body.page.status).toBe('active');
    expect(answer.body.page.pausedReason).toBeUndefined();
    expect((await item(keys.page('7004')))?.pausedReason).toBeUndefined();
  });

  it('pauses a Page on request, saying an operator did it', async () => {
    await call('PUT', '/admin/pages/7005', { body: { accessToken: secret('page') } });

    const answer = await call('PUT', '/admin/pages/7005', { body: { status: 'paused' } });

    expect(answer.body.page).toMatchObject({
      status: 'paused',
      pausedReason: 'paused by an operator',
    });
  });

  it('refuses a rate over 40 naming Meta’s per-Page ceiling, changing nothing', async () => {
    await call('PUT', '/admin/pages/7006', { body: { accessToken: secret('page') } });

    const answer = await call('PUT', '/admin/pages/7006', {
      body: { timezone: 'Asia/Kolkata', ratePerSecond: 300 },
    });

    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toMatch(
      /^ratePerSecond: must be at most 40 \(Meta's ceiling of 40 messages\/s per Page\)/,
    );
    expect(await item(keys.page('7006'))).toMatchObject({ ratePerSecond: 20, timezone: 'UTC' });
  });

  it.each([
    ['a new Page without accessToken', '7100', {}, 'accessToken'],
    ['an empty accessToken', '7101', { accessToken: '' }, 'accessToken'],
    ['an unknown route', '7102', { accessToken: 't', deliveryRoute: 'fax' }, 'deliveryRoute'],
    [
      'the marketing route without ad account',
      '7103',
      { accessToken: 't', deliveryRoute: 'marketing_messages', campaignId: '1' },
      'adAccountId',
    ],
    [
      'the marketing route without campaign',
      '7104',
      { accessToken: 't', deliveryRoute: 'marketing_messages', adAccountId: '1' },
      'campaignId',
    ],
    ['a non-numeric ad account', '7105', { accessToken: 't', adAccountId: 'abc' }, 'adAccountId'],
    ['a rate of 0', '7106', { accessToken: 't', ratePerSecond: 0 }, 'ratePerSecond'],
    ['a rate over 40', '7107', { accessToken: 't', ratePerSecond: 41 }, 'ratePerSecond'],
    ['a fractional rate', '7108', { accessToken: 't', ratePerSecond: 2.5 }, 'ratePerSecond'],
    ['a rate as a string', '7109', { accessToken: 't', ratePerSecond: '20' }, 'ratePerSecond'],
    ['an unknown time zone', '7110', { accessToken: 't', timezone: 'Mars/Olympus' }, 'timezone'],
    ['an unknown status', '7111', { accessToken: 't', status: 'stopped' }, 'status'],
    ['an unknown field', '7112', { accessToken: 't', acessToken: 't' }, 'acessToken'],
    ['a Page id with #', '71%2313', { accessToken: 't' }, 'pageId'],
    ['a body that is not an object', '7114', ['accessToken'], 'body'],
  ])('answers 400 naming the field for %s', async (_, pageId, body, field) => {
    const answer = await call('PUT', `/admin/pages/${pageId}`, { body });

    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toMatch(new RegExp(`^${field}`));
    expect(await item(keys.page(decodeURIComponent(pageId)))).toBeUndefined();
  });
});

describe('GET /admin/pages', () => {
  it('shows when and why Meta holds a Page’s MM sends, kept by an update, cleared by active', async () => {
    const body = {
      accessToken: secret('page'),
      deliveryRoute: 'marketing_messages',
      adAccountId: '1',
      campaignId: '2',
    };
    await call('PUT', '/admin/pages/7210', { body });
    const until = Date.parse('2026-12-01T10:00:00Z');
    await dynamoSendStore(db.client, db.table).holdPage(
      '7210',
      until,
      'meta error 100/2300002: campaign-not-ready',
    );

    const listed = await call('GET', '/admin/pages');
    await call('PUT', '/admin/pages/7210', { body: { timezone: 'Asia/Tokyo' } });
    const kept = await item(keys.page('7210'));
    await call('PUT', '/admin/pages/7210', { body: { status: 'active' } });
    const cleared = await item(keys.page('7210'));

    expect(listed.body.items).toContainEqual(
      expect.objectContaining({
        pageId: '7210',
        status: 'active',
        heldUntil: until,
        heldReason: 'meta error 100/2300002: campaign-not-ready',
      }),
    );
    expect(kept).toMatchObject({ timezone: 'Asia/Tokyo', heldUntil: until });
    expect(cleared?.heldUntil).toBeUndefined();
    expect(cleared?.heldReason).toBeUndefined();
  });

  it('lists the registered Pages without their tokens', async () => {
    const accessToken = secret('page');
    await call('PUT', '/admin/pages/7201', { body: { accessToken, timezone: 'Europe/Berlin' } });

    const answer = await call('GET', '/admin/pages');

    expect(answer.status).toBe(200);
    expect(answer.body.items).toContainEqual({
      pageId: '7201',
      deliveryRoute: 'send_api',
      ratePerSecond: 20,
      timezone: 'Europe/Berlin',
      status: 'active',
      hasAccessToken: true,
    });
    expect(JSON.stringify(answer.body)).not.toContain(accessToken);
    expect(JSON.stringify(answer.body)).not.toContain('accessToken');
  });
});

describe('PUT /admin/topics/{topicId}', () => {
  it('saves a topic and says how often the Page route really sends it', async () => {
    const { pageId } = await aPage();

    const answer = await call('PUT', '/admin/topics/deals', {
      body: aTopicBody(pageId, { title: 'Deals', sendTime: '09:00' }),
    });

    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      created: true,
      topic: {
        pageId,
        topicId: 'deals',
        title: 'Deals',
        cadence: 'DAILY',
        sendTime: '09:00',
        message: { text: 'Today only' },
        effectiveCadence: 'every 2 days at 09:00: the legacy route allows one send per 48 h',
      },
    });
    expect(await item(keys.topic(pageId, 'deals'))).toMatchObject({ title: 'Deals' });
  });

  it('describes a weekly topic on the marketing route', async () => {
    const { pageId } = await aPage();
    await call('PUT', `/admin/pages/${pageId}`, {
      body: { deliveryRoute: 'marketing_messages', adAccountId: '1', campaignId: '2' },
    });

    const answer = await call('PUT', '/admin/topics/weekly', {
      body: aTopicBody(pageId, { cadence: 'WEEKLY', weekday: 5, sendTime: '18:30' }),
    });

    expect(answer.body.topic.effectiveCadence).toBe('every week on Friday at 18:30');
  });

  it.each([[101], [-1], [1.5], ['high']])(
    'refuses a priority of %s with 400 naming the range, and stores nothing',
    async (priority) => {
      const { pageId } = await aPage();

      const answer = await call('PUT', '/admin/topics/ranked', {
        body: aTopicBody(pageId, { priority }),
      });

      expect(answer.status).toBe(400);
      expect(answer.body.error.message).toMatch(/^priority: must be .*0 to 100$/);
      expect(await item(keys.topic(pageId, 'ranked'))).toBeUndefined();
    },
  );

  it('keeps a topic’s stored priority when a put names none', async () => {
    const { pageId } = await aPage();
    await aTopic(pageId, { topicId: 'ranked', title: 'Ranked', priority: 7 });

    const saved = await aTopic(pageId, { topicId: 'ranked', title: 'Ranked', sendTime: '10:00' });

    expect(saved).toMatchObject({ priority: 7, sendTime: '10:00' });
    expect(await item(keys.topic(pageId, 'ranked'))).toMatchObject({
      priority: 7,
      sendTime: '10:00',
    });
  });

  it('refuses the topic id _unmatched with 400 naming it reserved, and stores nothing', async () => {
    const { pageId } = await aPage();

    const answer = await call('PUT', '/admin/topics/_unmatched', { body: aTopicBody(pageId) });

    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toBe(
      'topicId: _unmatched is reserved: it counts status webhooks no send joins',
    );
    expect(await item(keys.topic(pageId, '_unmatched'))).toBeUndefined();
  });

  it('ranks an MM Page’s topics for the person budget and keeps a topic’s creation time', async () => {
    const { pageId } = await aPage();
    await call('PUT', `/admin/pages/${pageId}`, {
      body: { deliveryRoute: 'marketing_messages', adAccountId: '1', campaignId: '2' },
    });
    await aTopic(pageId, { topicId: 'a-daily' });
    await aTopic(pageId, { topicId: 'b-weekly', cadence: 'WEEKLY' });
    const saved = await aTopic(pageId, { topicId: 'c-daily', priority: 5 });
    const createdAt = (await item(keys.topic(pageId, 'a-daily')))?.createdAt;
    clock.set(NOW + 60_000);
    await aTopic(pageId, { topicId: 'a-daily', priority: 0 }).finally(() => clock.set(NOW));

    const answer = await call('GET', '/admin/topics', { query: { pageId } });

    expect(saved).toMatchObject({ priority: 5, budgetRank: 1 });
    expect(
      answer.body.items.map((topic: Topic & { budgetRank: number }) => [
        topic.topicId,
        topic.priority,
        topic.budgetRank,
      ]),
    ).toEqual([
      ['a-daily', 0, 3],
      ['b-weekly', 0, 2],
      ['c-daily', 5, 1],
    ]);
    expect(createdAt).toBe(NOW);
    expect((await item(keys.topic(pageId, 'a-daily')))?.createdAt).toBe(createdAt);
  });

  it('answers 404 when the Page is not registered', async () => {
    const answer = await call('PUT', '/admin/topics/orphan', { body: aTopicBody('70000404') });

    expect(answer.status).toBe(404);
    expect(answer.body.error.message).toContain('70000404');
  });

  it('refuses a title another topic of the Page has, with 409', async () => {
    const { pageId } = await aPage();
    await call('PUT', '/admin/topics/first', { body: aTopicBody(pageId, { title: 'Same' }) });

    const answer = await call('PUT', '/admin/topics/second', {
      body: aTopicBody(pageId, { title: 'Same' }),
    });

    expect(answer.status).toBe(409);
    expect(answer.body.error).toMatchObject({ code: 'title_taken' });
    expect(answer.body.error.message).toMatch(/^title: topic first/);
  });

  it.each([
    ['a title over 65 characters', { title: 'x'.repeat(66) }, 'title'],
    ['an empty title', { title: '  ' }, 'title'],
    ['an unknown cadence', { cadence: 'HOURLY' }, 'cadence'],
    ['a send time without leading zero', { sendTime: '9:00' }, 'sendTime'],
    ['a send time of 24:00', { sendTime: '24:00' }, 'sendTime'],
    ['a weekday on a DAILY topic', { weekday: 2 }, 'weekday'],
    ['a weekday of 8', { cadence: 'WEEKLY', weekday: 8 }, 'weekday'],
    ['a day of month on a WEEKLY topic', { cadence: 'WEEKLY', dayOfMonth: 3 }, 'dayOfMonth'],
    ['a day of month of 29', { cadence: 'MONTHLY', dayOfMonth: 29 }, 'dayOfMonth'],
    ['no message', { message: undefined }, 'message'],
    ['a text over 2000 characters', { message: { text: 'x'.repeat(2001) } }, 'message.text'],
    ['an empty message', { message: {} }, 'message'],
    [
      'both text and attachment',
      { message: { text: 'a', attachment: { type: 'image', payload: {} } } },
      'message',
    ],
    [
      'an attachment of unknown type',
      { message: { attachment: { type: 'sticker', payload: {} } } },
      'message.attachment.type',
    ],
    [
      'an attachment without payload',
      { message: { attachment: { type: 'image' } } },
      'message.attachment.payload',
    ],
    [
      'a template without template_type',
      { message: { attachment: { type: 'template', payload: { text: 'a' } } } },
      'message.attachment.payload.template_type',
    ],
    ['empty quick replies', { message: { text: 'a', quick_replies: [] } }, 'message.quick_replies'],
    ['an unknown message field', { message: { text: 'a', tag: 'X' } }, 'message.tag'],
    ['a message that is a string', { message: 'hello' }, 'message'],
    ['an unknown field', { colour: 'red' }, 'colour'],
    ['no pageId', { pageId: undefined }, 'pageId'],
  ])('answers 400 naming the field for %s', async (_, fields, field) => {
    const { pageId } = await aPage();
    const topicId = unique('invalid-');

    const answer = await call('PUT', `/admin/topics/${topicId}`, {
      body: aTopicBody(pageId, fields),
    });

    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toMatch(new RegExp(`^${field.replaceAll('.', '\\.')}\\b`));
    expect(await item(keys.topic(pageId, topicId))).toBeUndefined();
  });

  it('accepts a template message with quick replies', async () => {
    const { pageId } = await aPage();
    const message = {
      attachment: {
        type: 'template',
        payload: {
          template_type: 'button',
          text: 'Deals',
          buttons: [{ type: 'web_url', title: 'Shop', url: 'https://shop.example/deals' }],
        },
      },
      quick_replies: [{ content_type: 'text', title: 'More', payload: 'MORE' }],
    };

    const answer = await call('PUT', '/admin/topics/templated', {
      body: aTopicBody(pageId, { message }),
    });

    expect(answer.status).toBe(200);
    expect(answer.body.topic.message).toEqual(message);
  });

  it.each([
    ['with #', 'a%23b'],
    ['with a control character', 'a%0Ab'],
    ['over 200 characters', 'x'.repeat(201)],
  ])('answers 400 naming topicId for a topic id %s', async (_, topicId) => {
    const { pageId } = await aPage();

    const answer = await call('PUT', `/admin/topics/${topicId}`, { body: aTopicBody(pageId) });

    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toMatch(/^topicId: /);
  });
});

describe('topic creation and the due index', () => {
  it('places the subscriptions that opted in before the topic existed', async () => {
    const { pageId } = await aPage();
    const topicId = unique('early-');
    const paris = anOptIn({ pageId, topicId, timezone: 'Europe/Paris' });
    const kolkata = anOptIn({ pageId, topicId, timezone: 'Asia/Kolkata' });
    const stopped = anOptIn({ pageId, topicId });
    await webhookEvents([paris, kolkata, stopped]);
    await webhookEvents([{ ...stopped, kind: 'stop', timestamp: NOW - DAY }]);
    expect((await subscription(pageId, paris.psid, topicId))?.duePk).toBeUndefined();

    const answer = await call('PUT', `/admin/topics/${topicId}`, { body: aTopicBody(pageId) });

    expect(answer.body.placement).toEqual({ scanned: 3, placed: 2, complete: true });
    for (const { psid, timezone } of [paris, kolkata]) {
      expect(await subscription(pageId, psid, topicId)).toMatchObject({
        duePk: keys.duePartition(
          'DAILY',
          pageId,
          topicId,
          timezone ?? '',
          shardOf(psid, DUE_SHARDS),
        ),
        dueSk: psid,
        version: 2,
      });
    }
    expect((await subscription(pageId, stopped.psid, topicId))?.duePk).toBeUndefined();
    expect((await item(keys.topicZones(pageId, topicId)))?.zones).toEqual(
      new Set(['DAILY#Europe/Paris', 'DAILY#Asia/Kolkata']),
    );
  });

  it('moves the subscriptions to the new cadence when it changes, old WEEKLY tokens staying', async () => {
    const { pageId } = await aPage();
    const topic = await aTopic(pageId);
    const plain = anOptIn({ pageId, topicId: topic.topicId });
    const weekly = anOptIn({ pageId, topicId: topic.topicId, frequency: 'WEEKLY' });
    await webhookEvents([plain, weekly]);

    const answer = await call('PUT', `/admin/topics/${topic.topicId}`, {
      body: aTopicBody(pageId, { title: topic.title, cadence: 'MONTHLY', dayOfMonth: 5 }),
    });

    expect(answer.body).toMatchObject({ created: false, placement: { placed: 1 } });
    expect(String((await subscription(pageId, plain.psid, topic.topicId))?.duePk)).toMatch(
      /^DUE#MONTHLY#/,
    );
    expect(String((await subscription(pageId, weekly.psid, topic.topicId))?.duePk)).toMatch(
      /^DUE#WEEKLY#/,
    );
  });

  it('leaves the due index alone when a topic is saved again with its cadence', async () => {
    const { pageId } = await aPage();
    const topic = await aTopic(pageId);

    const answer = await call('PUT', `/admin/topics/${topic.topicId}`, {
      body: aTopicBody(pageId, { title: topic.title, sendTime: '10:00' }),
    });

    expect(answer.body).toEqual({ created: false, topic: expect.any(Object) });
  });

  it('never overwrites a webhook write that lands between its read and its write', async () => {
    const { pageId } = await aPage();
    const topicId = unique('raced-');
    const optIn = anOptIn({ pageId, topicId });
    await webhookEvents([optIn]);
    const base = deps();
    let raced = false;
    const racing = handlerWith(
      { adminToken: ADMIN_TOKEN },
      {
        pageIndex: {
          ...base.pageIndex,
          placeDue: async (...args) => {
            if (!raced) {
              raced = true;
              // The person stops while the topic is being created.
              await webhookEvents([{ ...optIn, kind: 'stop', timestamp: NOW - DAY }]);
            }
            return base.pageIndex.placeDue(...args);
          },
        },
      },
    );

    const answer = await callWith(racing, 'PUT', `/admin/topics/${topicId}`, {
      body: aTopicBody(pageId),
    });

    expect(answer.body.placement).toEqual({ scanned: 1, placed: 0, complete: true });
    const stored = await subscription(pageId, optIn.psid, topicId);
    expect(stored).toMatchObject({ status: 'stopped', lastEventAt: NOW - DAY });
    expect(stored?.duePk).toBeUndefined();
  });

  it('places a subscription whose lock moved meanwhile, keeping what the other writer wrote', async () => {
    const { pageId } = await aPage();
    const topicId = unique('bumped-');
    const optIn = anOptIn({ pageId, topicId });
    await webhookEvents([optIn]);
    const base = deps();
    let raced = false;
    const racing = handlerWith(
      { adminToken: ADMIN_TOKEN },
      {
        pageIndex: {
          ...base.pageIndex,
          placeDue: async (...args) => {
            if (!raced) {
              raced = true;
              // Another writer (a sender's claim) bumps the lock meanwhile.
              await db.client.send(
                new UpdateCommand({
                  TableName: db.table,
                  Key: keys.subscription({ pageId, psid: optIn.psid, topicId }),
                  UpdateExpression: 'SET lastSlot = :slot ADD #version :one',
                  ExpressionAttributeNames: { '#version': 'version' },
                  ExpressionAttributeValues: { ':slot': NOW - DAY, ':one': 1 },
                }),
              );
            }
            return base.pageIndex.placeDue(...args);
          },
        },
      },
    );

    const answer = await callWith(racing, 'PUT', `/admin/topics/${topicId}`, {
      body: aTopicBody(pageId),
    });

    expect(answer.body.placement).toEqual({ scanned: 1, placed: 1, complete: true });
    expect(await subscription(pageId, optIn.psid, topicId)).toMatchObject({
      lastSlot: NOW - DAY,
      version: 3,
      duePk: expect.stringMatching(/^DUE#DAILY#/),
    });
  });
});

describe('GET /admin/topics', () => {
  it("lists a Page's topics with their effective cadence", async () => {
    const { pageId } = await aPage();
    const topic = await aTopic(pageId, { topicId: 'b-topic' });
    await aTopic(pageId, { topicId: 'a-topic' });

    const answer = await call('GET', '/admin/topics', { query: { pageId } });

    expect(answer.status).toBe(200);
    expect(answer.body.items.map((entry: Topic) => entry.topicId)).toEqual(['a-topic', 'b-topic']);
    expect(answer.body.items[1]).toMatchObject({
      title: topic.title,
      effectiveCadence: expect.stringContaining('every 2 days'),
    });
  });

  it('answers 400 without pageId and 404 for an unknown Page', async () => {
    const missing = await call('GET', '/admin/topics');
    const unknown = await call('GET', '/admin/topics', { query: { pageId: '70000405' } });

    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toMatch(/^pageId/);
    expect(unknown.status).toBe(404);
  });
});

describe('GET /admin/subscriptions', () => {
  it('pages through a Page with an opaque cursor, every subscription once', async () => {
    const { pageId } = await aPage();
    const topic = await aTopic(pageId);
    const events = Array.from({ length: 5 }, () => anOptIn({ pageId, topicId: topic.topicId }));
    await webhookEvents(events);

    const seen: string[] = [];
    const cursors: (string | null)[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 5; page++) {
      const answer = await call('GET', '/admin/subscriptions', {
        query: { pageId, limit: '2', ...(cursor && { cursor }) },
      });
      expect(answer.status).toBe(200);
      expect(answer.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...answer.body.items.map((entry: { psid: string }) => entry.psid));
      cursors.push(answer.body.cursor);
      if (answer.body.cursor === null) break;
      cursor = answer.body.cursor;
    }

    expect(seen.sort()).toEqual(events.map((event) => event.psid).sort());
    expect(cursors.at(-1)).toBeNull();
    expect(cursors.slice(0, 2).every((entry) => typeof entry === 'string')).toBe(true);
  });

  it('shows each subscription with its effective cadence and next due slot, never its token', async () => {
    const { pageId } = await aPage();
    const topic = await aTopic(pageId);
    const optIn = anOptIn({ pageId, topicId: topic.topicId, timezone: 'Europe/Paris' });
    await webhookEvents([optIn]);

    const answer = await call('GET', '/admin/subscriptions', { query: { pageId } });

    expect(answer.body.items).toEqual([
      {
        pageId,
        psid: optIn.psid,
        topicId: topic.topicId,
        status: 'active',
        cadence: 'DAILY',
        timezone: 'Europe/Paris',
        // 09:00 Paris has passed at 09:00Z: tomorrow's.
        nextDueAt: '2026-11-22T08:00:00.000Z',
        lastSentAt: null,
        tokenExpiresAt: null,
        optedInAt: new Date(NOW - 2 * DAY).toISOString(),
        statusReason: null,
      },
    ]);
    expect(JSON.stringify(answer.body)).not.toContain(optIn.kind === 'optin' ? optIn.token : '');
  });

  it('filters by topic (exactly) and by status', async () => {
    const { pageId } = await aPage();
    const topic = await aTopic(pageId);
    const kept = anOptIn({ pageId, topicId: topic.topicId });
    const stopped = anOptIn({ pageId, topicId: topic.topicId });
    const lookalike = anOptIn({ pageId, topicId: `${topic.topicId}#more` });
    await webhookEvents([kept, stopped, lookalike]);
    await webhookEvents([{ ...stopped, kind: 'stop', timestamp: NOW - DAY }]);

    const byTopic = await call('GET', '/admin/subscriptions', {
      query: { pageId, topicId: topic.topicId },
    });
    const active = await call('GET', '/admin/subscriptions', {
      query: { pageId, topicId: topic.topicId, status: 'active' },
    });
    const stoppedOnes = await call('GET', '/admin/subscriptions', {
      query: { pageId, status: 'stopped', limit: '1' },
    });

    const psids = (answer: { body: { items: { psid: string }[] } }) =>
      answer.body.items.map((entry) => entry.psid).sort();
    expect(psids(byTopic)).toEqual([kept.psid, stopped.psid].sort());
    expect(psids(active)).toEqual([kept.psid]);
    expect(psids(stoppedOnes)).toEqual([stopped.psid]);
    expect(stoppedOnes.body.items[0]).toMatchObject({ nextDueAt: null });
  });

  it.each([
    ['no pageId', {}, 'pageId'],
    ['a limit of 0', { limit: '0' }, 'limit'],
    ['a limit of 101', { limit: '101' }, 'limit'],
    ['a limit that is not a number', { limit: 'ten' }, 'limit'],
    ['an unknown status', { status: 'gone' }, 'status'],
    ['an unknown parameter', { topic: 'daily' }, 'topic'],
    ['a cursor that is not base64url', { cursor: 'not a cursor!' }, 'cursor'],
    ['a cursor that is not JSON', { cursor: 'bm90IGpzb24' }, 'cursor'],
    [
      "another Page's cursor",
      {
        cursor: Buffer.from(
          JSON.stringify({ pk: 'SUB#1#2', sk: 'TOPIC#t', subPage: '1', subSort: 't#2' }),
        ).toString('base64url'),
      },
      'cursor',
    ],
  ])('answers 400 naming the field for %s', async (_, query, field) => {
    const answer = await call('GET', '/admin/subscriptions', {
      query: { ...(field !== 'pageId' && { pageId: '7300' }), ...query },
    });

    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toMatch(new RegExp(`^${field}`));
  });
});

describe('POST /admin/topics/{topicId}/optin-requests', () => {
  /** A Page with a topic, and a person known to the simulator who wrote `wroteAgo` ago. */
  async function aConversation(wroteAgo: number | undefined, options: { metaSaw?: boolean } = {}) {
    const { pageId } = await aPage();
    const topic = await aTopic(pageId);
    const psid = unique('6');
    sim.addPerson({ pageId, psid });
    if (wroteAgo !== undefined) {
      await dynamoContactStore(db.client, db.table).recordInbound(pageId, psid, NOW - wroteAgo);
      if (options.metaSaw ?? true) {
        clock.set(NOW - wroteAgo);
        sim.personWrites(pageId, psid);
        clock.set(NOW);
      }
    }
    return { pageId, topic, psid };
  }

  const request = (topicId: string, body: Record<string, unknown>) =>
    call('POST', `/admin/topics/${topicId}/optin-requests`, { body });

  it("sends the topic's template inside the 24 h window", async () => {
    const { pageId, topic, psid } = await aConversation(23 * HOUR);
    const before = sim.counters().optInRequests;

    const answer = await request(topic.topicId, { psid });

    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      sent: true,
      pageId,
      psid,
      topicId: topic.topicId,
      requestedAt: new Date(NOW).toISOString(),
    });
    expect(sim.counters().optInRequests).toBe(before + 1);
    expect(sim.tokenOf(pageId, psid, topic.topicId)).toMatchObject({ title: topic.title });
    expect(await item(keys.contact(pageId, psid))).toMatchObject({
      [`optInRequest#${topic.title}`]: NOW,
    });
  });

  it('refuses outside the window with 422 without calling Meta', async () => {
    const { topic, psid } = await aConversation(25 * HOUR);
    const calls = sim.counters().calls;

    const answer = await request(topic.topicId, { psid });

    expect(answer.status).toBe(422);
    expect(answer.body.error.code).toBe('outside_window');
    expect(answer.body.error.message).toContain('retry when they write again');
    expect(sim.counters().calls).toBe(calls);
  });

  it('refuses a person who never wrote with 422 and records nothing', async () => {
    const { pageId, topic, psid } = await aConversation(undefined);

    const answer = await request(topic.topicId, { psid });

    expect(answer.status).toBe(422);
    expect(await item(keys.contact(pageId, psid))).toBeUndefined();
  });

  it('refuses a second request for the title within 7 days with 409 and when to retry', async () => {
    const { pageId, topic, psid } = await aConversation(HOUR);
    expect((await request(topic.topicId, { psid })).status).toBe(200);
    const calls = sim.counters().calls;
    clock.set(NOW + 3 * DAY);
    // The person writes again three days later: the window is open, the 7 days are not over.
    await dynamoContactStore(db.client, db.table).recordInbound(pageId, psid, NOW + 3 * DAY - HOUR);

    const answer = await request(topic.topicId, { psid });
    clock.set(NOW);

    expect(answer.status).toBe(409);
    expect(answer.body.error).toMatchObject({
      code: 'too_soon',
      retryAt: new Date(NOW + 7 * DAY).toISOString(),
    });
    expect(sim.counters().calls).toBe(calls);
  });

  it('sends once when two requests race', async () => {
    const { topic, psid } = await aConversation(HOUR);
    const before = sim.counters().optInRequests;

    const answers = await Promise.all([
      request(topic.topicId, { psid }),
      request(topic.topicId, { psid }),
    ]);

    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409]);
    expect(sim.counters().optInRequests).toBe(before + 1);
  });

  it('gives the claim back when Meta refuses, so a later request may go', async () => {
    // Recurrent saw the message; Meta (here) did not: Meta answers 10/2534022.
    const { pageId, topic, psid } = await aConversation(HOUR, { metaSaw: false });

    const refused = await request(topic.topicId, { psid });
    sim.personWrites(pageId, psid);
    const retried = await request(topic.topicId, { psid });

    expect(refused.status).toBe(422);
    expect(refused.body.error).toMatchObject({ code: 'outside_window' });
    expect(refused.body.error.message).toContain('Meta error 10/2534022');
    expect(retried.status).toBe(200);
  });

  it('keeps the claim when Meta says a request went out within 7 days (613/1893016)', async () => {
    const { pageId, topic, psid } = await aConversation(HOUR);
    const page = await dynamoCatalog(db.client, db.table).getPage(pageId);
    // Another tool asked Meta for this title an hour ago.
    await graphClient({ baseUrl: sim.url, version: 'v24.0' }).requestOptIn({
      pageId,
      accessToken: page?.accessToken ?? '',
      psid,
      template: { title: topic.title, payload: topic.topicId, ctaText: 'GET', timezone: 'UTC' },
    });

    const refused = await request(topic.topicId, { psid });
    const calls = sim.counters().calls;
    const again = await request(topic.topicId, { psid });

    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({
      code: 'too_soon',
      retryAt: new Date(NOW + 7 * DAY).toISOString(),
    });
    expect(refused.body.error.message).toContain('613/1893016');
    expect(again.status).toBe(409);
    expect(sim.counters().calls).toBe(calls);
  });

  it("answers 409 page_token_invalid when Meta refuses the Page's token, never quoting it", async () => {
    const { pageId, topic, psid } = await aConversation(HOUR);
    const wrong = secret('stale-page');
    await call('PUT', `/admin/pages/${pageId}`, { body: { accessToken: wrong } });

    const answer = await request(topic.topicId, { psid });

    expect(answer.status).toBe(409);
    expect(answer.body.error.code).toBe('page_token_invalid');
    expect(JSON.stringify(answer.body)).not.toContain(wrong);
  });

  it('answers 502 when Meta cannot be reached, and gives the claim back', async () => {
    const { pageId, topic, psid } = await aConversation(HOUR);
    const offline = handlerWith(
      { adminToken: ADMIN_TOKEN },
      {},
      `http://127.0.0.1:${await freePort()}`,
    );

    const answer = await callWith(
      offline,
      'POST',
      `/admin/topics/${topic.topicId}/optin-requests`,
      {
        body: { psid },
      },
    );

    expect(answer.status).toBe(502);
    expect(answer.body.error.code).toBe('meta_unavailable');
    expect(
      (await item(keys.contact(pageId, psid)))?.[`optInRequest#${topic.title}`],
    ).toBeUndefined();
  });

  it('finds the Page of a topic id that only one Page has, and needs pageId otherwise', async () => {
    const first = await aConversation(HOUR);
    const other = await aPage();
    await aTopic(other.pageId, { topicId: first.topic.topicId });

    const ambiguous = await request(first.topic.topicId, { psid: first.psid });
    const chosen = await request(first.topic.topicId, { psid: first.psid, pageId: first.pageId });

    expect(ambiguous.status).toBe(400);
    expect(ambiguous.body.error.message).toMatch(/^pageId: required/);
    expect(chosen.status).toBe(200);
  });

  it.each([
    ['no psid', {}, 'psid'],
    ['a psid with #', { psid: 'a#b' }, 'psid'],
    ['an unknown call to action', { psid: '1', ctaText: 'CLICK' }, 'ctaText'],
    ['an image that is not https', { psid: '1', imageUrl: 'http://x.test/a.png' }, 'imageUrl'],
    ['an unknown field', { psid: '1', title: 'x' }, 'title'],
  ])('answers 400 naming the field for %s', async (_, body, field) => {
    const answer = await request('any-topic', body);

    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toMatch(new RegExp(`^${field}`));
  });

  it('answers 404 for a topic no Page has, or that the named Page lacks', async () => {
    const { pageId } = await aPage();

    expect((await request('no-such-topic', { psid: '1' })).status).toBe(404);
    expect((await request('no-such-topic', { psid: '1', pageId })).status).toBe(404);
  });
});

describe('POST /admin/fanout', () => {
  it('runs the fan-out as if its schedule fired at the given time', async () => {
    const { pageId } = await aPage({ timezone: 'UTC' });
    const topic = await aTopic(pageId, {
      sendTime: '06:00',
      quietHours: { start: '22:00', end: '05:00' },
    });
    const optIn = anOptIn({ pageId, topicId: topic.topicId, timezone: 'UTC' });
    await webhookEvents([optIn]);
    await drainQueue(queue);

    const answer = await call('POST', '/admin/fanout', {
      body: { cadence: 'DAILY', scheduledTime: '2026-11-21T06:15:00Z' },
    });

    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      cadence: 'DAILY',
      scheduledTime: '2026-11-21T06:15:00.000Z',
      handedOver: false,
    });
    expect(answer.body.queued).toBeGreaterThanOrEqual(1);
    const jobs = (await drainQueue(queue)) as { psid: string; slot: number }[];
    expect(jobs).toContainEqual(
      expect.objectContaining({ psid: optIn.psid, slot: Date.parse('2026-11-21T06:00:00Z') }),
    );
    expect(await dynamoFanoutRuns(db.client, db.table).lastCompleted('DAILY')).toBe(
      Date.parse('2026-11-21T06:15:00Z'),
    );
  });

  it("runs at the clock's now by default", async () => {
    const answer = await call('POST', '/admin/fanout', { body: { cadence: 'WEEKLY' } });

    expect(answer.status).toBe(200);
    expect(answer.body.scheduledTime).toBe(new Date(NOW).toISOString());
  });

  it.each([
    ['an unknown cadence', { cadence: 'HOURLY' }, 'cadence'],
    ['no cadence', {}, 'cadence'],
    ['a time that is not ISO', { cadence: 'DAILY', scheduledTime: 'tomorrow' }, 'scheduledTime'],
    ['a time in the future', { cadence: 'DAILY', scheduledTime: NOW + 60_000 }, 'scheduledTime'],
    ['an unknown field', { cadence: 'DAILY', at: 'now' }, 'at'],
  ])('answers 400 naming the field for %s', async (_, body, field) => {
    const answer = await call('POST', '/admin/fanout', { body });

    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toMatch(new RegExp(`^${field}`));
  });
});

describe('GET /admin/stats', () => {
  it('answers counters by day, zeros included, for one topic or every topic of the Page', async () => {
    const { pageId } = await aPage();
    const daily = await aTopic(pageId, { topicId: 'stats-a' });
    await aTopic(pageId, { topicId: 'stats-b' });
    await dynamoStatsStore(db.client, db.table).add([
      { pageId, topicId: daily.topicId, day: '2026-11-20', counts: { sent: 3, optins: 1 } },
      { pageId, topicId: 'stats-b', day: '2026-11-20', counts: { sent: 2 } },
      { pageId, topicId: 'stats-b', day: '2026-11-21', counts: { failed: 1 } },
      { pageId, topicId: 'stats-b', day: '2026-11-25', counts: { sent: 9 } },
    ]);

    const one = await call('GET', '/admin/stats', {
      query: { pageId, topicId: daily.topicId, from: '2026-11-19', to: '2026-11-21' },
    });
    const all = await call('GET', '/admin/stats', {
      query: { pageId, from: '2026-11-19', to: '2026-11-21' },
    });

    expect(one.status).toBe(200);
    expect(
      one.body.days.map((entry: { day: string; sent: number }) => [entry.day, entry.sent]),
    ).toEqual([
      ['2026-11-19', 0],
      ['2026-11-20', 3],
      ['2026-11-21', 0],
    ]);
    expect(one.body.totals).toMatchObject({ sent: 3, optins: 1, failed: 0 });
    expect(all.body.totals).toMatchObject({ sent: 5, optins: 1, failed: 1 });
    expect(all.body.topics).toEqual([
      { topicId: 'stats-a', totals: expect.objectContaining({ sent: 3 }) },
      { topicId: 'stats-b', totals: expect.objectContaining({ sent: 2, failed: 1 }) },
    ]);
  });

  it('covers the last 30 days up to today by default', async () => {
    const answer = await call('GET', '/admin/stats', { query: { pageId: '7400' } });

    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ from: '2026-10-23', to: '2026-11-21' });
    expect(answer.body.days).toHaveLength(30);
  });

  it.each([
    ['no pageId', {}, 'pageId'],
    ['a from that is not a date', { from: '21/11/2026' }, 'from'],
    ['a to that is no calendar date', { to: '2026-02-30' }, 'to'],
    ['from after to', { from: '2026-11-22', to: '2026-11-21' }, 'from'],
    ['a range over 366 days', { from: '2024-01-01', to: '2026-01-01' }, 'from'],
    ['an unknown parameter', { since: '2026-11-01' }, 'since'],
  ])('answers 400 naming the field for %s', async (_, query, field) => {
    const answer = await call('GET', '/admin/stats', {
      query: { ...(field !== 'pageId' && { pageId: '7400' }), ...query },
    });

    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toMatch(new RegExp(`^${field}`));
  });
});

describe('DELETE /admin/contacts/{pageId}/{psid}', () => {
  it('erases the subscriptions, contact record and token entries of one person, idempotently', async () => {
    const { pageId } = await aPage();
    const first = await aTopic(pageId);
    const second = await aTopic(pageId);
    const psid = unique('erased-person-');
    const optIns = [first, second].map((topic) =>
      anOptIn({ pageId, topicId: topic.topicId, psid }),
    );
    const neighbour = anOptIn({ pageId, topicId: first.topicId });
    await webhookEvents([...optIns, neighbour]);
    await dynamoContactStore(db.client, db.table).recordInbound(pageId, psid, NOW);
    await dynamoStatsStore(db.client, db.table).add([
      { pageId, topicId: first.topicId, day: '2026-11-21', counts: { optins: 2 } },
    ]);
    const tokens = optIns.map((event) => (event.kind === 'optin' ? event.token : ''));
    expect(await item(keys.token(tokens[0] ?? ''))).toBeDefined();

    const erased = await call('DELETE', `/admin/contacts/${pageId}/${psid}`);
    const again = await call('DELETE', `/admin/contacts/${pageId}/${psid}`);

    expect(erased.status).toBe(200);
    expect(erased.body).toEqual({
      pageId,
      psid,
      erased: { subscriptions: 2, contact: 1, tokens: 2, other: 0 },
      // Told Meta too, which never had this person (only webhooks made them here).
      meta: { status: 'unknown-to-meta' },
    });
    expect(again.body.erased).toEqual({ subscriptions: 0, contact: 0, tokens: 0, other: 0 });
    expect(await itemsUnder(`SUB#${pageId}#${psid}`)).toEqual([]);
    for (const token of tokens) expect(await item(keys.token(token))).toBeUndefined();
    expect(await subscription(pageId, neighbour.psid, first.topicId)).toBeDefined();
    expect(await item(keys.stats(pageId, first.topicId, '2026-11-21'))).toMatchObject({
      optins: 2,
    });
    const listed = await call('GET', '/admin/subscriptions', { query: { pageId } });
    expect(listed.body.items.map((entry: { psid: string }) => entry.psid)).toEqual([
      neighbour.psid,
    ]);
    expect(log.lines.some((line) => line.includes(psid))).toBe(false);
  });

  it('erases items of other kinds stored under the person too', async () => {
    const pageId = unique('91');
    const psid = unique('8');
    await db.client.send(
      new PutCommand({
        TableName: db.table,
        Item: { pk: `SUB#${pageId}#${psid}`, sk: 'NOTE#1', text: 'x' },
      }),
    );

    const answer = await call('DELETE', `/admin/contacts/${pageId}/${psid}`);

    expect(answer.body.erased).toMatchObject({ other: 1 });
    expect(await itemsUnder(`SUB#${pageId}#${psid}`)).toEqual([]);
  });

  it('answers 400 for a PSID with # and 405 for GET', async () => {
    expect((await call('DELETE', '/admin/contacts/1/a%23b')).status).toBe(400);
    expect((await call('GET', '/admin/contacts/1/2')).status).toBe(405);
  });
});

describe('POST /admin/pages/{pageId}/reconcile', () => {
  it('adds the tokens the webhooks missed, through the webhook code', async () => {
    const { pageId } = await aPage();
    const topic = await aTopic(pageId);
    const psid = unique('4');
    sim.addPerson({ pageId, psid, timezone: 'Asia/Kolkata' });
    const createdAt = NOW - 3 * DAY;
    const seeded = sim.seedToken({
      pageId,
      psid,
      topicId: topic.topicId,
      title: topic.title,
      createdAt,
    });
    secrets.add(seeded.token);

    const answer = await call('POST', `/admin/pages/${pageId}/reconcile`);

    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      scanned: 1,
      added: 1,
      alreadyKnown: 0,
      keptNewer: 0,
      unmatchedTitles: [],
      complete: true,
    });
    expect(await subscription(pageId, psid, topic.topicId)).toMatchObject({
      status: 'active',
      token: seeded.token,
      timezone: 'Asia/Kolkata',
      // Meta lists seconds: the event is stamped with the creation time in ms.
      lastEventAt: Math.floor(createdAt / 1000) * 1000,
      duePk: keys.duePartition(
        'DAILY',
        pageId,
        topic.topicId,
        'Asia/Kolkata',
        shardOf(psid, DUE_SHARDS),
      ),
    });
    expect(await item(keys.token(seeded.token))).toMatchObject({ pageId, psid });
    expect(await item(keys.stats(pageId, topic.topicId, '2026-11-18'))).toMatchObject({
      optins: 1,
    });
  });

  it('never overrides a newer stop or a newer token, and knows its own tokens', async () => {
    const { pageId } = await aPage();
    const topic = await aTopic(pageId);
    const [stoppedPsid, newerPsid, knownPsid] = [unique('4'), unique('4'), unique('4')];
    for (const psid of [stoppedPsid, newerPsid, knownPsid]) sim.addPerson({ pageId, psid });
    const seed = (psid: string) =>
      sim.seedToken({
        pageId,
        psid,
        topicId: topic.topicId,
        title: topic.title,
        createdAt: NOW - 5 * DAY,
      });
    const stoppedToken = seed(stoppedPsid).token;
    seed(newerPsid);
    const knownToken = seed(knownPsid).token;
    const newerToken = secret('newer');
    await webhookEvents([
      // A stop newer than the token Meta lists (its token never stored).
      { kind: 'stop', pageId, psid: stoppedPsid, topicId: topic.topicId, timestamp: NOW - DAY },
      // A token newer than the one Meta lists.
      anOptIn({
        pageId,
        topicId: topic.topicId,
        psid: newerPsid,
        token: newerToken,
        timestamp: NOW - DAY,
      }),
      anOptIn({
        pageId,
        topicId: topic.topicId,
        psid: knownPsid,
        token: knownToken,
        timestamp: NOW - 5 * DAY,
      }),
    ]);

    const answer = await call('POST', `/admin/pages/${pageId}/reconcile`);

    expect(answer.body).toMatchObject({ scanned: 3, added: 1, alreadyKnown: 1, keptNewer: 1 });
    expect(await subscription(pageId, stoppedPsid, topic.topicId)).toMatchObject({
      status: 'stopped',
      token: stoppedToken,
      lastEventAt: NOW - DAY,
    });
    expect((await subscription(pageId, stoppedPsid, topic.topicId))?.duePk).toBeUndefined();
    expect(await subscription(pageId, newerPsid, topic.topicId)).toMatchObject({
      status: 'active',
      token: newerToken,
    });
  });

  it('reports titles no topic has, pages through long lists and is idempotent', async () => {
    const { pageId } = await aPage();
    const topic = await aTopic(pageId);
    for (let index = 0; index < 105; index++) {
      const psid = unique('3');
      sim.addPerson({ pageId, psid });
      sim.seedToken({ pageId, psid, topicId: topic.topicId, title: topic.title });
    }
    const stranger = unique('3');
    sim.addPerson({ pageId, psid: stranger });
    sim.seedToken({ pageId, psid: stranger, topicId: 'gone', title: 'Old topic' });
    for (const view of sim.tokens(pageId)) secrets.add(view.token);

    const first = await call('POST', `/admin/pages/${pageId}/reconcile`);
    const second = await call('POST', `/admin/pages/${pageId}/reconcile`);

    expect(first.body).toMatchObject({
      scanned: 106,
      added: 105,
      unmatchedTitles: ['Old topic'],
      unmatchedTokens: 1,
      complete: true,
    });
    expect(second.body).toMatchObject({ scanned: 106, added: 0, alreadyKnown: 105 });
  });

  it("answers 404 for an unknown Page and 409 when Meta refuses the Page's token", async () => {
    const { pageId } = await aPage();
    await call('PUT', `/admin/pages/${pageId}`, { body: { accessToken: secret('wrong') } });

    expect((await call('POST', '/admin/pages/70000406/reconcile')).status).toBe(404);
    const refused = await call('POST', `/admin/pages/${pageId}/reconcile`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('page_token_invalid');
  });

  it('answers 400 for an unknown body field', async () => {
    const answer = await call('POST', '/admin/pages/1/reconcile', { body: { force: true } });

    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toMatch(/^force/);
  });
});

describe('secrets', () => {
  it('never puts a Page access token or a subscription token in an answer or a log line', () => {
    expect(answers.length).toBeGreaterThan(50);
    expect(secrets.size).toBeGreaterThan(10);
    for (const value of secrets) {
      for (const answer of answers) expect(answer).not.toContain(value);
      for (const line of log.lines) expect(line).not.toContain(value);
    }
  });
});
