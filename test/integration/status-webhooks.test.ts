import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { dynamoTrackedSends } from '#lib/aws/dynamo-tracked-sends.ts';
import { keys } from '#lib/aws/keys.ts';
import { webhookDeps } from '#lib/aws/webhook-deps.ts';
import { fixedClock } from '#lib/clock.ts';
import type { TrackedSend } from '#lib/domain/tracked-send.ts';
import { sha256 } from '#lib/hash.ts';
import { signBody } from '#lib/http/meta-signature.ts';
import { createWebhookHandler } from '../../functions/webhook.ts';
import { anApiEvent } from '../support/api-event.ts';
import { captureLog } from '../support/capture-log.ts';
import {
  aDelivery,
  aMarketingStatus,
  anOptin,
  inChanges,
  type MarketingStatusFields,
  type MarketingStatusKind,
} from '../support/meta-payloads.ts';
import { createTestTable } from '../support/table.ts';

const APP_SECRET = 'status-app-secret';
const HOUR_MS = 3_600_000;
const NOW = Date.parse('2026-11-21T18:00:00Z');
const SENT_AT = Date.parse('2026-11-21T09:00:00Z');
const DAY = '2026-11-21';
const context = {} as Context;
const log = captureLog();

let db: Awaited<ReturnType<typeof createTestTable>>;
let handler: ReturnType<typeof createWebhookHandler>;
let counter = 0;

beforeAll(async () => {
  db = await createTestTable('status');
  handler = createWebhookHandler(
    { appSecret: APP_SECRET, verifyToken: 'verify', maxBodyBytes: 4 * 1024 * 1024 },
    webhookDeps(db.client, db.table, { clock: fixedClock(NOW), log }),
  );
});

/** A fresh person's send, kept as the sender keeps it; the ids are unique to the test. */
async function aTrackedSend(fields: Partial<TrackedSend> = {}): Promise<TrackedSend> {
  counter += 1;
  const send: TrackedSend = {
    pageId: '1001',
    psid: `p-${counter}`,
    topicId: 'daily-deals',
    token: `tok-${counter}`,
    campaignId: 'cmp-1',
    trackingId: `trk-${counter}`,
    sentAt: SENT_AT,
    ...fields,
  };
  await dynamoTrackedSends(db.client, db.table).record([send]);
  return send;
}

/** A documented status about `send`, Meta's time an hour after it. */
function statusOf(
  kind: MarketingStatusKind,
  send: TrackedSend,
  fields: MarketingStatusFields = {},
) {
  return aMarketingStatus(kind, {
    pageId: send.pageId,
    psid: send.psid,
    token: send.token,
    campaignId: send.campaignId,
    trackingId: send.trackingId,
    timestamp: send.sentAt + HOUR_MS,
    ...fields,
  });
}

async function post(body: string) {
  const response = await handler(
    anApiEvent({ body, headers: { 'x-hub-signature-256': signBody(body, APP_SECRET) } }),
    context,
  );
  expect(response.statusCode).toBe(200);
  return response;
}

async function counts(topicId: string, pageId = '1001', day = DAY) {
  const answer = await db.client.send(
    new GetCommand({ TableName: db.table, Key: keys.stats(pageId, topicId, day) }),
  );
  const item = answer.Item ?? {};
  const pick = ['delivered', 'read', 'clicked', 'undelivered', 'unmatched'] as const;
  return Object.fromEntries(pick.map((name) => [name, Number(item[name] ?? 0)]));
}

describe('status webhooks joined to kept sends (DynamoDB Local)', () => {
  it('joins deliveries and reads by tracking id, clicks by token and campaign, and counts them on the send’s topic and day', async () => {
    const send = await aTrackedSend({ topicId: 'join-envelope' });

    await post(
      inChanges([statusOf('echo', send), statusOf('delivery', send), statusOf('read', send)]),
    );
    await post(inChanges([statusOf('click', send, { timestamp: NOW })]));

    expect(await counts('join-envelope')).toEqual({
      delivered: 1,
      read: 1,
      clicked: 1,
      undelivered: 0,
      unmatched: 0,
    });
  });

  it('joins bare status objects as it joins the change envelope', async () => {
    const send = await aTrackedSend({ topicId: 'join-bare' });

    for (const kind of ['delivery', 'read', 'click'] as const) {
      await post(JSON.stringify(statusOf(kind, send)));
    }

    expect(await counts('join-bare')).toMatchObject({ delivered: 1, read: 1, clicked: 1 });
  });

  it('ends with the same counts for duplicates and any order (read before delivered)', async () => {
    const inOrder = await aTrackedSend({ topicId: 'order-a' });
    const reordered = await aTrackedSend({ topicId: 'order-b' });

    for (const kind of ['delivery', 'read', 'click'] as const) {
      await post(inChanges([statusOf(kind, inOrder)]));
    }
    // Reversed, each sent twice in different bodies, and twice at once in one body.
    for (const kind of ['click', 'read', 'delivery'] as const) {
      await post(inChanges([statusOf(kind, reordered)]));
      await post(inChanges([statusOf(kind, reordered)], NOW + 1));
    }
    await post(inChanges([statusOf('read', reordered), statusOf('read', reordered)], NOW + 2));

    const expected = { delivered: 1, read: 1, clicked: 1, undelivered: 0, unmatched: 0 };
    expect(await counts('order-a')).toEqual(expected);
    expect(await counts('order-b')).toEqual(expected);
  });

  it('joins a click to the token’s latest send of that campaign made before the click', async () => {
    const first = await aTrackedSend({ topicId: 'pick-first' });
    const second = await aTrackedSend({
      ...first,
      topicId: 'pick-second',
      trackingId: `${first.trackingId}-b`,
      sentAt: SENT_AT + 13 * HOUR_MS,
    });
    const otherCampaign = await aTrackedSend({
      ...first,
      topicId: 'pick-other-campaign',
      campaignId: 'cmp-2',
      trackingId: `${first.trackingId}-c`,
      sentAt: SENT_AT + 2 * HOUR_MS,
    });

    await post(inChanges([statusOf('click', first, { timestamp: SENT_AT + 3 * HOUR_MS })]));
    await post(inChanges([statusOf('click', second, { timestamp: SENT_AT + 14 * HOUR_MS })]));

    expect(await counts('pick-first')).toMatchObject({ clicked: 1 });
    expect(await counts('pick-second', '1001', '2026-11-21')).toMatchObject({ clicked: 1 });
    expect(await counts('pick-other-campaign')).toMatchObject({ clicked: 0 });
    expect(otherCampaign.campaignId).toBe('cmp-2');
  });

  it('counts a failure as undelivered and moves nothing after it', async () => {
    const send = await aTrackedSend({ topicId: 'failing' });

    await post(inChanges([statusOf('failed', send)]));
    await post(JSON.stringify(statusOf('failed', send)));
    await post(inChanges([statusOf('delivery', send), statusOf('read', send)]));

    expect(await counts('failing')).toEqual({
      delivered: 0,
      read: 0,
      clicked: 0,
      undelivered: 1,
      unmatched: 0,
    });
  });

  it('counts statuses that join nothing as unmatched per Page, never failing the delivery', async () => {
    const expired = await aTrackedSend({ pageId: '2002', sentAt: NOW - 8 * 24 * HOUR_MS });
    const known = await aTrackedSend({ pageId: '2002' });
    const stranger = { ...known, token: 'tok-nobody', trackingId: 'trk-nobody' };

    await post(
      inChanges([
        statusOf('delivery', expired, { timestamp: NOW }),
        statusOf('delivery', known, { trackingId: 'trk-unknown', timestamp: NOW }),
        statusOf('read', stranger, { timestamp: NOW }),
        statusOf('click', known, { campaignId: 'cmp-unknown', timestamp: NOW }),
        statusOf('failed', stranger, { timestamp: NOW }),
      ]),
    );
    await post(JSON.stringify(statusOf('echo', stranger, { timestamp: NOW })));

    expect(await counts('_unmatched', '2002')).toMatchObject({ unmatched: 6 });
    expect(await counts('daily-deals', '2002')).toMatchObject({ delivered: 0, read: 0 });
    expect(log.entries).toContainEqual(
      expect.objectContaining({ message: 'marketing statuses unmatched', perPage: { '2002': 5 } }),
    );
  });

  it('marks every subscription holding the token stopped when a failure names 2300034', async () => {
    const token = 'tok-shared-stop';
    await post(
      aDelivery([
        anOptin({ psid: 'stop-1', topicId: 'daily-deals', token, timestamp: SENT_AT - HOUR_MS }),
        anOptin({ psid: 'stop-1', topicId: 'weekly-news', token, timestamp: SENT_AT - HOUR_MS }),
      ]),
    );
    const send = await aTrackedSend({ psid: 'stop-1', token });
    const failure = {
      ...statusOf('failed', send),
      error: { code: 2300034, message: 'The person stopped marketing messages' },
    };

    await post(inChanges([failure]));

    for (const topicId of ['daily-deals', 'weekly-news']) {
      const item = await db.client.send(
        new GetCommand({
          TableName: db.table,
          Key: keys.subscription({ pageId: '1001', psid: 'stop-1', topicId }),
        }),
      );
      expect(item.Item).toMatchObject({ status: 'stopped' });
    }
    expect(await counts('daily-deals')).toMatchObject({ undelivered: 1 });
  });

  it('archives no raw body of a status-only delivery, and counts a repeat of it once', async () => {
    const send = await aTrackedSend({ topicId: 'no-archive' });
    const body = inChanges([statusOf('delivery', send), statusOf('read', send)]);

    await post(body);
    await post(body);

    expect(await archived(body)).toBeUndefined();
    expect(await counts('no-archive')).toMatchObject({ delivered: 1, read: 1 });
  });

  it('still archives a delivery that changes a subscription, and one with a failure', async () => {
    const optin = aDelivery([anOptin({ psid: 'archived-1', token: 'tok-archived-1' })]);
    const send = await aTrackedSend({ topicId: 'archived-failure' });
    const failure = inChanges([statusOf('failed', send)]);

    await post(optin);
    await post(failure);

    expect(await archived(optin)).toMatchObject({ state: 'applied' });
    expect(await archived(failure)).toMatchObject({ state: 'applied' });
  });
});

/** The archive item of a raw body, if one was written. */
async function archived(body: string) {
  const answer = await db.client.send(
    new GetCommand({ TableName: db.table, Key: keys.event(sha256(Buffer.from(body))) }),
  );
  return answer.Item;
}
