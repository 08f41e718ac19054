import { createHmac, randomBytes } from 'node:crypto';
import { GetCommand, PutCommand, paginateScan } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { dynamoCatalog } from '#lib/aws/dynamo-catalog.ts';
import { keys } from '#lib/aws/keys.ts';
import { webhookDeps } from '#lib/aws/webhook-deps.ts';
import { fixedClock } from '#lib/clock.ts';
import { sha256 } from '#lib/hash.ts';
import { signBody } from '#lib/http/meta-signature.ts';
import { createWebhookHandler } from '../../functions/webhook.ts';
import { anApiEvent } from '../support/api-event.ts';
import { captureLog } from '../support/capture-log.ts';
import { fixtureText } from '../support/fixtures.ts';
import { aDelivery, anInboundMessage, anOptin } from '../support/meta-payloads.ts';
import { createTestTable } from '../support/table.ts';

const APP_SECRET = 'test-app-secret';
const VERIFY_TOKEN = 'test-verify-token';
const NOW = Date.parse('2026-11-21T09:00:00Z');
const context = {} as Context;

let db: Awaited<ReturnType<typeof createTestTable>>;
let handler: ReturnType<typeof createWebhookHandler>;

const log = captureLog();

function handlerFor(table: string, maxBodyBytes = 4 * 1024 * 1024) {
  return createWebhookHandler(
    { appSecret: APP_SECRET, verifyToken: VERIFY_TOKEN, maxBodyBytes },
    webhookDeps(db.client, table, { clock: fixedClock(NOW), log }),
  );
}

function signed(body: string, headers: Record<string, string> = {}) {
  return anApiEvent({
    body,
    headers: {
      'content-type': 'application/json',
      'x-hub-signature-256': signBody(body, APP_SECRET),
      ...headers,
    },
  });
}

async function post(body: string) {
  return handler(signed(body), context);
}

async function subscription(psid: string, topicId = 'daily-deals', pageId = '1001') {
  const answer = await db.client.send(
    new GetCommand({ TableName: db.table, Key: keys.subscription({ pageId, psid, topicId }) }),
  );
  return answer.Item;
}

async function itemCount(prefix: string) {
  let count = 0;
  for await (const page of paginateScan({ client: db.client }, { TableName: db.table })) {
    count += (page.Items ?? []).filter((item) => String(item.pk).startsWith(prefix)).length;
  }
  return count;
}

async function stats(topicId: string, pageId = '1001', day = '2025-11-21') {
  const answer = await db.client.send(
    new GetCommand({ TableName: db.table, Key: keys.stats(pageId, topicId, day) }),
  );
  return answer.Item;
}

beforeAll(async () => {
  db = await createTestTable('webhook');
  handler = handlerFor(db.table);
  await dynamoCatalog(db.client, db.table).putTopic({
    pageId: '1001',
    topicId: 'daily-deals',
    title: 'Daily deals',
    cadence: 'DAILY',
    sendTime: '09:00',
    message: { text: 'Today only' },
  });
});

describe('GET /webhook handshake', () => {
  it('answers the challenge when the verify token matches', async () => {
    const event = anApiEvent({
      method: 'GET',
      query: {
        'hub.mode': 'subscribe',
        'hub.verify_token': VERIFY_TOKEN,
        'hub.challenge': 'c-123',
      },
    });

    const response = await handler(event, context);

    expect(response).toMatchObject({ statusCode: 200, body: 'c-123' });
  });

  it('refuses a wrong verify token with 403', async () => {
    const event = anApiEvent({
      method: 'GET',
      query: { 'hub.mode': 'subscribe', 'hub.verify_token': 'guess', 'hub.challenge': 'c-123' },
    });

    const response = await handler(event, context);

    expect(response.statusCode).toBe(403);
    expect(response.body).not.toContain('c-123');
  });
});

describe('POST /webhook signature', () => {
  it('refuses a delivery without signature with 401 and stores nothing', async () => {
    const body = aDelivery([anOptin({ psid: 'unsigned-1' })]);

    const response = await handler(anApiEvent({ body }), context);

    expect(response.statusCode).toBe(401);
    expect(JSON.parse(response.body ?? '')).toMatchObject({ error: { code: 'signature_missing' } });
    expect(await subscription('unsigned-1')).toBeUndefined();
    expect(await itemCount(`EVT#${sha256(body)}`)).toBe(0);
  });

  it('refuses a forged signature with 401 and stores nothing', async () => {
    const body = aDelivery([anOptin({ psid: 'forged-1' })]);
    const event = anApiEvent({
      body,
      headers: { 'x-hub-signature-256': signBody(body, 'wrong-secret') },
    });

    const response = await handler(event, context);

    expect(response.statusCode).toBe(401);
    expect(await subscription('forged-1')).toBeUndefined();
  });

  it('checks the exact bytes: a signature over re-serialised JSON does not pass', async () => {
    const body = fixtureText('webhooks/escaped-unicode.json');
    const reserialised = JSON.stringify(JSON.parse(body));
    const event = anApiEvent({
      body,
      headers: { 'x-hub-signature-256': signBody(reserialised, APP_SECRET) },
    });

    const response = await handler(event, context);

    expect(reserialised).not.toBe(body);
    expect(response.statusCode).toBe(401);
  });

  it('accepts an escaped-unicode body with its true signature and stores the decoded title', async () => {
    const response = await post(fixtureText('webhooks/escaped-unicode.json'));

    expect(response.statusCode).toBe(200);
    expect(await subscription('5010', 'tägliche-angebote')).toMatchObject({
      title: 'Tägliche Angebote 🔥',
      timezone: 'Europe/Berlin',
    });
  });

  it('falls back to the sha1 header only when the sha256 one is absent', async () => {
    const body = aDelivery([anOptin({ psid: 'sha1-1' })]);
    const sha1 = `sha1=${createHmac('sha1', APP_SECRET).update(body).digest('hex')}`;

    const alone = await handler(
      anApiEvent({ body, headers: { 'x-hub-signature': sha1 } }),
      context,
    );
    const withBadSha256 = await handler(
      anApiEvent({
        body,
        headers: { 'x-hub-signature': sha1, 'x-hub-signature-256': 'sha256=00' },
      }),
      context,
    );

    expect(alone.statusCode).toBe(200);
    expect(withBadSha256.statusCode).toBe(401);
  });

  it('verifies a base64-encoded body over its decoded bytes', async () => {
    const body = aDelivery([anOptin({ psid: 'b64-1' })]);
    const event = anApiEvent({
      body: Buffer.from(body).toString('base64'),
      isBase64Encoded: true,
      headers: { 'x-hub-signature-256': signBody(body, APP_SECRET) },
    });

    const response = await handler(event, context);

    expect(response.statusCode).toBe(200);
    expect(await subscription('b64-1')).toMatchObject({ status: 'active' });
  });
});

describe('POST /webhook bad input', () => {
  it('answers 400 for malformed JSON with a valid signature and stores nothing', async () => {
    const body = fixtureText('webhooks/malformed.txt');

    const response = await post(body);

    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body ?? '')).toMatchObject({
      error: { code: 'malformed_json', message: expect.stringMatching(/not valid JSON/) },
    });
    expect(await itemCount(`EVT#${sha256(body)}`)).toBe(0);
  });

  it('answers 200 and ignores an object it does not handle', async () => {
    const response = await post(fixtureText('webhooks/unknown-object.json'));

    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body ?? '')).toMatchObject({ applied: 0, ignored: 1 });
  });

  it('answers 413 for a body over the limit', async () => {
    const small = handlerFor(db.table, 64 * 1024);
    const body = `{"object":"page","entry":[],"pad":"${'x'.repeat(70_000)}"}`;

    const response = await small(signed(body), context);

    expect(response.statusCode).toBe(413);
    expect(await itemCount(`EVT#${sha256(body)}`)).toBe(0);
  });

  it('answers 405 for other methods', async () => {
    const response = await handler(anApiEvent({ method: 'PUT', body: '{}' }), context);

    expect(response.statusCode).toBe(405);
  });

  it('answers 5xx when the raw body cannot be archived, so Meta retries', async () => {
    const broken = handlerFor('no-such-table');

    const response = await broken(signed(aDelivery([anOptin({ psid: 'lost-1' })])), context);

    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body ?? '')).toEqual({
      error: { code: 'internal', message: 'internal error' },
    });
  });
});

describe('POST /webhook applying events', () => {
  it('stores an opt-in with its token, zone and expiry, and indexes it under its topic', async () => {
    const response = await post(fixtureText('webhooks/optin.json'));

    expect(response.statusCode).toBe(200);
    expect(await subscription('5001')).toMatchObject({
      status: 'active',
      token: 'tok-5001-daily',
      timezone: 'Europe/Paris',
      tokenExpiresAt: 1_795_251_600_000,
      duePk: expect.stringMatching(/^DUE#DAILY#1001#daily-deals#Europe\/Paris#\d+$/),
      dueSk: '5001',
      subPage: '1001',
      subSort: 'daily-deals#5001',
    });
  });

  it('archives the raw body and treats a second delivery of it as a duplicate', async () => {
    const body = aDelivery([anOptin({ psid: 'dup-1', timestamp: 1_763_715_600_000 })]);

    const first = await post(body);
    const second = await post(body);

    expect(JSON.parse(first.body ?? '')).toMatchObject({ duplicate: false, applied: 1 });
    expect(JSON.parse(second.body ?? '')).toMatchObject({ duplicate: true, applied: 0 });
    expect(await itemCount(`EVT#${sha256(body)}`)).toBe(1);
  });

  it('archives a body too large for one item over several parts', async () => {
    const padding = randomBytes(450_000).toString('base64');
    const body = `{"object":"page","entry":[],"padding":"${padding}"}`;

    const response = await post(body);

    expect(response.statusCode).toBe(200);
    expect(await itemCount(`EVT#${sha256(body)}`)).toBeGreaterThan(2);
  });

  it('applies again a delivery archived but never applied (a crash between the two)', async () => {
    const body = aDelivery([anOptin({ psid: 'crash-1' })]);
    await db.client.send(
      new PutCommand({
        TableName: db.table,
        Item: { ...keys.event(sha256(body)), state: 'received', receivedAt: NOW },
      }),
    );

    const response = await post(body);

    expect(JSON.parse(response.body ?? '')).toMatchObject({ duplicate: false, applied: 1 });
    expect(await subscription('crash-1')).toMatchObject({ status: 'active' });
  });

  it('keeps a subscription out of the due index until its topic exists', async () => {
    await post(aDelivery([anOptin({ psid: 'early-1', topicId: 'not-yet-defined' })]));

    const item = await subscription('early-1', 'not-yet-defined');

    expect(item).toMatchObject({ status: 'active', token: 'tok-early-1-not-yet-defined' });
    expect(item?.duePk).toBeUndefined();
  });

  it('stops (either spelling) and resumes, leaving and re-entering the due index', async () => {
    await post(aDelivery([anOptin({ psid: 'cycle-1', timestamp: 1_763_715_600_000 })]));
    await post(
      aDelivery([
        anOptin({ psid: 'cycle-1', timestamp: 1_763_715_700_000, status: 'STOP_NOTIFICATIONS' }),
      ]),
    );
    const stopped = await subscription('cycle-1');
    await post(
      aDelivery([
        anOptin({ psid: 'cycle-1', timestamp: 1_763_715_800_000, status: 'RESUME NOTIFICATIONS' }),
      ]),
    );
    const resumed = await subscription('cycle-1');

    expect(stopped).toMatchObject({ status: 'stopped' });
    expect(stopped?.duePk).toBeUndefined();
    expect(resumed).toMatchObject({
      status: 'active',
      duePk: expect.stringMatching(/^DUE#DAILY#/),
    });
  });

  it('applies an out-of-order stop and resume by timestamp', async () => {
    await post(aDelivery([anOptin({ psid: 'order-1', timestamp: 1_000 })]));
    await post(
      aDelivery([anOptin({ psid: 'order-1', timestamp: 3_000, status: 'RESUME NOTIFICATIONS' })]),
    );
    await post(
      aDelivery([anOptin({ psid: 'order-1', timestamp: 2_000, status: 'STOP NOTIFICATIONS' })]),
    );

    expect(await subscription('order-1')).toMatchObject({ status: 'active', lastEventAt: 3_000 });
  });

  it('records every topic zone in use and counts opt-ins, stops and resumes per day', async () => {
    const at = Date.parse('2025-11-21T10:00:00Z');
    await post(
      aDelivery([
        anOptin({ psid: 'count-1', timestamp: at, timezone: 'Asia/Kolkata', topicId: 'counted' }),
        anOptin({ psid: 'count-2', timestamp: at, timezone: 'Asia/Kathmandu', topicId: 'counted' }),
        anOptin({
          psid: 'count-1',
          timestamp: at + 1,
          status: 'STOP NOTIFICATIONS',
          topicId: 'counted',
        }),
      ]),
    );
    await dynamoCatalog(db.client, db.table).putTopic({
      pageId: '1001',
      topicId: 'counted',
      title: 'Counted',
      cadence: 'WEEKLY',
      sendTime: '10:00',
      message: { text: 'x' },
    });
    await post(
      aDelivery([
        anOptin({
          psid: 'count-3',
          timestamp: at + 2,
          timezone: 'Asia/Kolkata',
          topicId: 'counted',
        }),
      ]),
    );

    const zones = await db.client.send(
      new GetCommand({ TableName: db.table, Key: keys.topicZones('1001', 'counted') }),
    );
    expect([...(zones.Item?.zones ?? [])]).toEqual(['WEEKLY#Asia/Kolkata']);
    expect(await stats('counted')).toMatchObject({ optins: 3, stops: 1 });
  });

  it('records when a person last wrote, ignoring echoes and older messages', async () => {
    await post(aDelivery([anInboundMessage({ psid: 'talk-1', timestamp: 5_000 })]));
    await post(aDelivery([anInboundMessage({ psid: 'talk-1', timestamp: 4_000 })]));

    const contact = await db.client.send(
      new GetCommand({ TableName: db.table, Key: keys.contact('1001', 'talk-1') }),
    );
    expect(contact.Item).toMatchObject({ lastInboundAt: 5_000 });
  });

  it('handles a batched delivery across Pages and falls back to UTC for an unknown zone', async () => {
    const response = await post(fixtureText('webhooks/batch.json'));

    expect(JSON.parse(response.body ?? '')).toMatchObject({ applied: 4, ignored: 2 });
    expect(await subscription('5003', 'weekly-news')).toMatchObject({
      timezone: 'UTC',
      frequency: 'WEEKLY',
    });
    expect(await subscription('6001', 'monthly-digest', '1002')).toMatchObject({
      status: 'active',
    });
  });

  it('counts marketing statuses no kept send joins as unmatched, and marks a subscription stopped when its delivery failed so', async () => {
    await post(fixtureText('webhooks/optin.json'));

    await post(fixtureText('webhooks/marketing-statuses.json'));
    await post(fixtureText('webhooks/marketing-delivery-failed.json'));

    // No send was kept for these tracking ids (joins: test/integration/status-webhooks.test.ts).
    expect(await stats('_unmatched', '1001', '2025-11-21')).toMatchObject({ unmatched: 4 });
    expect((await stats('daily-deals', '1001', '2025-11-21'))?.delivered).toBeUndefined();
    const item = await subscription('5001');
    expect(item).toMatchObject({
      status: 'stopped',
      statusReason: expect.stringMatching(/10\/1893015/),
    });
    expect(item?.duePk).toBeUndefined();
  });

  it('applies a 1,000-event delivery completely', async () => {
    const events = Array.from({ length: 1000 }, (_, i) =>
      anOptin({
        psid: `bulk-${i}`,
        timestamp: 1_763_715_600_000 + i,
        timezone: 'America/New_York',
      }),
    );

    const response = await post(aDelivery(events));

    expect(JSON.parse(response.body ?? '')).toMatchObject({ applied: 1000 });
    expect(await itemCount('SUB#1001#bulk-')).toBe(1000);
  });
});

describe('POST /webhook shared tokens', () => {
  // META_PLATFORM.md section 4.1: an MM token is per person and Page, so two topics of one
  // person may carry the same token.
  async function marketingDelivered(token: string, at: number) {
    return post(
      JSON.stringify({
        object: 'page',
        entry: [
          {
            id: '1001',
            time: at,
            changes: [
              {
                field: 'marketing_message_deliveries',
                value: { messenger_subscription_token: token, timestamp: at },
              },
            ],
          },
        ],
      }),
    );
  }

  it('applies two opt-ins of one person, two topics, one token, in one delivery', async () => {
    const token = 'tok-shared-1';

    const response = await post(
      aDelivery([
        anOptin({ psid: 'share-1', topicId: 'daily-deals', token }),
        anOptin({ psid: 'share-1', topicId: 'weekly-news', token }),
      ]),
    );

    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body ?? '')).toMatchObject({ duplicate: false, applied: 2 });
    expect(await subscription('share-1', 'daily-deals')).toMatchObject({ status: 'active', token });
    expect(await subscription('share-1', 'weekly-news')).toMatchObject({ status: 'active', token });
    const directory = await db.client.send(
      new GetCommand({ TableName: db.table, Key: keys.token(token) }),
    );
    expect(directory.Item).toMatchObject({ pageId: '1001', psid: 'share-1' });
    expect(['daily-deals', 'weekly-news']).toContain(directory.Item?.topicId);
  });

  it('applies in full any mix of events sharing a token, in one delivery and across several', async () => {
    const token = 'tok-shared-2';
    const at = Date.parse('2025-11-22T10:00:00Z');
    const first = await post(
      aDelivery([
        anOptin({ psid: 'share-2', topicId: 'topic-a', token, timestamp: at }),
        anOptin({ psid: 'share-2', topicId: 'topic-b', token, timestamp: at }),
        anOptin({ psid: 'share-2', topicId: 'topic-c', token, timestamp: at }),
        anOptin({
          psid: 'share-2',
          topicId: 'topic-a',
          token,
          timestamp: at + 1,
          status: 'STOP NOTIFICATIONS',
        }),
        anOptin({ psid: 'share-3', topicId: 'topic-a', token: 'tok-other', timestamp: at }),
      ]),
    );
    const concurrent = await Promise.all([
      post(aDelivery([anOptin({ psid: 'share-2', topicId: 'topic-d', token, timestamp: at + 2 })])),
      post(aDelivery([anOptin({ psid: 'share-2', topicId: 'topic-e', token, timestamp: at + 2 })])),
      post(
        aDelivery([
          anOptin({
            psid: 'share-2',
            topicId: 'topic-a',
            token,
            timestamp: at + 3,
            status: 'RESUME NOTIFICATIONS',
          }),
          anOptin({ psid: 'share-2', topicId: 'topic-f', token, timestamp: at + 3 }),
        ]),
      ),
    ]);
    const status = await marketingDelivered(token, at + 4);

    for (const response of [first, ...concurrent, status]) {
      expect(response.statusCode).toBe(200);
    }
    for (const topicId of ['topic-a', 'topic-b', 'topic-c', 'topic-d', 'topic-e', 'topic-f']) {
      expect(await subscription('share-2', topicId)).toMatchObject({ status: 'active', token });
    }
    expect(await subscription('share-3', 'topic-a')).toMatchObject({ token: 'tok-other' });
    // Two people opted in to topic-a: share-2 (then stopped and resumed) and share-3.
    expect(await stats('topic-a', '1001', '2025-11-22')).toMatchObject({
      optins: 2,
      stops: 1,
      resumes: 1,
    });
    const directory = await db.client.send(
      new GetCommand({ TableName: db.table, Key: keys.token(token) }),
    );
    expect(directory.Item).toMatchObject({ pageId: '1001', psid: 'share-2' });
  });
});

describe('logs', () => {
  it('logs the counters it added, for the dashboard', async () => {
    const at = Date.parse('2025-12-01T10:00:00Z');
    log.entries.length = 0;

    await post(
      aDelivery([
        anOptin({ psid: 'logged-1', timestamp: at }),
        anOptin({ psid: 'logged-2', timestamp: at }),
      ]),
    );

    expect(log.entries).toContainEqual(
      expect.objectContaining({ level: 'info', message: 'stats counted', optins: 2 }),
    );
  });

  it('never logs a token or the app secret', () => {
    const everything = log.lines.join('\n');

    expect(log.lines.length).toBeGreaterThan(0);
    expect(everything).not.toMatch(/tok-/);
    expect(everything).not.toContain(APP_SECRET);
  });
});
