import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { dynamoConversationCounter } from '#lib/aws/dynamo-conversation-counts.ts';
import { dynamoSendStore } from '#lib/aws/dynamo-send-store.ts';
import { keys } from '#lib/aws/keys.ts';
import { webhookDeps } from '#lib/aws/webhook-deps.ts';
import { fixedClock } from '#lib/clock.ts';
import { hourOf } from '#lib/domain/safety/conversation-counts.ts';
import { signBody } from '#lib/http/meta-signature.ts';
import { createWebhookHandler } from '../../functions/webhook.ts';
import { anApiEvent } from '../support/api-event.ts';
import { captureLog } from '../support/capture-log.ts';
import { describeConversationCounterContract } from '../support/conversation-counter-contract.ts';
import { aDelivery, anInboundMessage } from '../support/meta-payloads.ts';
import { createTestTable } from '../support/table.ts';

const APP_SECRET = 'conversations-app-secret';
const NOW = Date.parse('2026-11-21T09:30:00Z');
const AT = Date.parse('2026-11-21T08:10:00Z');
const context = {} as Context;
const log = captureLog();

let db: Awaited<ReturnType<typeof createTestTable>>;
let handler: ReturnType<typeof createWebhookHandler>;

async function post(body: string) {
  return handler(
    anApiEvent({
      body,
      headers: {
        'content-type': 'application/json',
        'x-hub-signature-256': signBody(body, APP_SECRET),
      },
    }),
    context,
  );
}

async function day(psid: string, date = '2026-11-21') {
  const answer = await db.client.send(
    new GetCommand({ TableName: db.table, Key: keys.conversationDay('1001', psid, date) }),
  );
  return answer.Item;
}

const hours = async (psid: string) =>
  (await dynamoSendStore(db.client, db.table).readPerson({ pageId: '1001', psid })).conversations;

beforeAll(async () => {
  db = await createTestTable('conversations');
  handler = createWebhookHandler(
    { appSecret: APP_SECRET, verifyToken: 'verify', maxBodyBytes: 4 * 1024 * 1024 },
    webhookDeps(db.client, db.table, { clock: fixedClock(NOW), log }),
  );
});

describe("counting people's messages from messages webhooks", () => {
  it('counts each message once in its hour, however often Meta delivers it', async () => {
    const first = anInboundMessage({ psid: 'c-1', timestamp: AT, mid: 'm_one' });
    const second = anInboundMessage({ psid: 'c-1', timestamp: AT + 60_000, mid: 'm_two' });

    await post(aDelivery([first, second]));
    // A retry of the same delivery, and the same message again in another delivery.
    await post(aDelivery([first, second]));
    await post(aDelivery([first, anInboundMessage({ psid: 'c-2', timestamp: AT, mid: 'm_x' })]));

    expect(await hours('c-1')).toEqual([{ hour: hourOf(AT), organic: 2, marketing: 0 }]);
    expect(await hours('c-2')).toEqual([{ hour: hourOf(AT), organic: 1, marketing: 0 }]);
  });

  it("keeps counts and marks, never a message's text, and lets the item expire after 8 days", async () => {
    await post(aDelivery([anInboundMessage({ psid: 'c-3', timestamp: AT, mid: 'm_kept' })]));

    const item = await day('c-3');
    expect(item).toMatchObject({ o08: 1, expiresAt: Date.parse('2026-11-29T00:00:00Z') / 1000 });
    expect(JSON.stringify(item)).not.toMatch(/hello|m_kept/);
  });

  it("does not count the Page's own messages (echoes)", async () => {
    const echo = anInboundMessage({ psid: 'c-4', timestamp: AT, mid: 'm_echo', isEcho: true });

    const response = await post(aDelivery([echo]));

    expect(response.statusCode).toBe(200);
    expect(await day('c-4')).toBeUndefined();
  });

  it('logs and ignores a malformed message, answering 200 and writing nothing for it', async () => {
    const malformed = {
      ...anInboundMessage({ psid: 'c-5', timestamp: AT }),
      message: { mid: 42, text: 'hello' },
    };

    const response = await post(
      JSON.stringify({ object: 'page', entry: [{ id: '1001', time: AT, messaging: [malformed] }] }),
    );

    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body ?? '')).toMatchObject({ applied: 0, ignored: 1 });
    expect(await day('c-5')).toBeUndefined();
    expect(log.entries).toContainEqual(
      expect.objectContaining({ message: 'webhook content ignored' }),
    );
  });

  it('counts messages by their UTC day and hour', async () => {
    const late = Date.parse('2026-11-21T23:59:00Z');
    const early = Date.parse('2026-11-22T00:01:00Z');

    await post(
      aDelivery([
        anInboundMessage({ psid: 'c-6', timestamp: late, mid: 'm_late' }),
        anInboundMessage({ psid: 'c-6', timestamp: early, mid: 'm_early' }),
      ]),
    );

    expect(await day('c-6')).toMatchObject({ o23: 1 });
    expect(await day('c-6', '2026-11-22')).toMatchObject({ o00: 1 });
    expect(await hours('c-6')).toEqual([
      { hour: hourOf(late), organic: 1, marketing: 0 },
      { hour: hourOf(early), organic: 1, marketing: 0 },
    ]);
  });
});

describe('counting our marketing messages', () => {
  it('counts each tracking id once, next to the organic counts of the hour', async () => {
    const counter = dynamoConversationCounter(db.client, db.table);
    await post(aDelivery([anInboundMessage({ psid: 'c-7', timestamp: AT, mid: 'm_seven' })]));
    const send = { pageId: '1001', psid: 'c-7', kind: 'marketing' as const, at: AT + 5 * 60_000 };

    await counter.add([{ ...send, mark: 'track-1' }]);
    await counter.add([{ ...send, mark: 'track-1' }]);
    await counter.add([{ ...send, at: AT + 3_600_000, mark: 'track-2' }]);

    expect(await hours('c-7')).toEqual([
      { hour: hourOf(AT), organic: 1, marketing: 1 },
      { hour: hourOf(AT) + 1, organic: 0, marketing: 1 },
    ]);
  });

  it('keeps a marketing mark apart from an organic one of the same text', async () => {
    const counter = dynamoConversationCounter(db.client, db.table);

    await counter.add([
      { pageId: '1001', psid: 'c-8', kind: 'organic', at: AT, mark: 'same' },
      { pageId: '1001', psid: 'c-8', kind: 'marketing', at: AT, mark: 'same' },
    ]);

    expect(await hours('c-8')).toEqual([{ hour: hourOf(AT), organic: 1, marketing: 1 }]);
  });
});

describeConversationCounterContract('DynamoDB Local', {
  counter: () => dynamoConversationCounter(db.client, db.table),
  hours: async (person) =>
    (await dynamoSendStore(db.client, db.table).readPerson(person)).conversations,
});
