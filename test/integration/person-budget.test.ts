import { randomUUID } from 'node:crypto';
import type { ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoClient, createSqsClient } from '#lib/aws/clients.ts';
import { dynamoCatalog } from '#lib/aws/dynamo-catalog.ts';
import { dynamoSendStore } from '#lib/aws/dynamo-send-store.ts';
import { toSubscription } from '#lib/aws/dynamo-subscription-store.ts';
import { keys } from '#lib/aws/keys.ts';
import type { Page } from '#lib/domain/page.ts';
import type { SendJob } from '#lib/domain/send-job.ts';
import { PERSON_BUDGET_MS } from '#lib/domain/sending/person-budget.ts';
import { slotAtOrBefore } from '#lib/domain/slots.ts';
import { statsDay } from '#lib/domain/stats.ts';
import type { Subscription } from '#lib/domain/subscription.ts';
import type { Topic } from '#lib/domain/topic.ts';
import { silentLog } from '#lib/log.ts';
import { type GraphStandIn, startGraphStandIn } from '../support/graph-stand-in.ts';
import { describePersonBudgetContract } from '../support/send-store-contract.ts';
import { aSenderHandler, NO_QUIET_HOURS, sqsRecordOf } from '../support/sender-harness.ts';
import { createTestTable } from '../support/table.ts';

const DAY_MS = 86_400_000;
/** UTC, so the two daily topics below are 12 h apart on every date. */
const ZONE = 'UTC';
const context = {} as Context;

let db: Awaited<ReturnType<typeof createTestTable>>;
let graph: GraphStandIn;
const sqs = createSqsClient();
let sequence = 0;

beforeAll(async () => {
  [db, graph] = await Promise.all([createTestTable('budget'), startGraphStandIn()]);
});

afterAll(async () => {
  await graph.close();
});

function unique(prefix: string): string {
  sequence += 1;
  return `${prefix}-${sequence}`;
}

/** A Marketing Message Page with these topics, stored as the admin API stores them. */
async function aPage(
  topics: Omit<Topic, 'pageId'>[],
  route: Page['deliveryRoute'] = 'marketing_messages',
): Promise<Page> {
  const page: Page = {
    pageId: unique('page'),
    accessToken: 'page-token',
    deliveryRoute: route,
    ...(route === 'marketing_messages' && { adAccountId: unique('acct'), campaignId: 'c-1' }),
    ratePerSecond: 20,
    timezone: ZONE,
    status: 'active',
    quietHours: NO_QUIET_HOURS,
  };
  const catalog = dynamoCatalog(db.client, db.table);
  await catalog.putPage(page);
  await Promise.all(topics.map((topic) => catalog.putTopic({ ...topic, pageId: page.pageId })));
  return page;
}

const daily = (topicId: string, sendTime: string, fields: Partial<Topic> = {}) => ({
  topicId,
  title: topicId,
  cadence: 'DAILY' as const,
  sendTime,
  message: { text: topicId },
  createdAt: 1,
  ...fields,
});

/** One person's subscriptions to `topicIds` on the Page, all holding one MM token. */
async function aPerson(page: Page, topicIds: string[]) {
  const psid = unique('psid');
  const token = `MM_TOKEN-${randomUUID()}`;
  const subscriptions: Subscription[] = topicIds.map((topicId) => ({
    pageId: page.pageId,
    psid,
    topicId,
    status: 'active',
    token,
    timezone: ZONE,
    lastEventAt: Date.now() - 30 * DAY_MS,
    activeSince: Date.now() - 30 * DAY_MS,
    version: 1,
  }));
  await Promise.all(
    subscriptions.map((subscription) =>
      db.client.send(
        new PutCommand({
          TableName: db.table,
          Item: {
            ...keys.subscription(subscription),
            ...subscription,
            // In the due index, as placed subscriptions are: a claim also writes its entry.
            duePk: keys.duePartition('DAILY', page.pageId, subscription.topicId, ZONE, 0),
            dueSk: psid,
          },
        }),
      ),
    ),
  );
  return { psid, token };
}

/** Puts the jobs on a fresh queue and receives them back, one SQS event per job. */
async function eventsOf(jobs: SendJob[]): Promise<SQSEvent[]> {
  const { QueueUrl: queueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: unique(`budget-${randomUUID().slice(0, 8)}`) }),
  );
  if (!queueUrl) throw new Error('no queue url');
  await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: jobs.map((job, index) => ({ Id: String(index), MessageBody: JSON.stringify(job) })),
    }),
  );
  const messages: Message[] = [];
  const deadline = Date.now() + 5_000;
  while (messages.length < jobs.length && Date.now() < deadline) {
    const answer = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    messages.push(...(answer.Messages ?? []));
  }
  if (messages.length !== jobs.length) throw new Error('messages did not come back');
  return messages.map((message) => ({ Records: [sqsRecordOf(message)] }));
}

function aSender(dynamo = db.client) {
  return aSenderHandler({
    dynamo,
    sqs,
    table: db.table,
    queueUrl: 'unused',
    graphUrl: graph.url,
    log: silentLog,
    timeoutMs: 5_000,
  });
}

async function statsOf(pageId: string, topicId: string) {
  const answer = await db.client.send(
    new GetCommand({ TableName: db.table, Key: keys.stats(pageId, topicId, statsDay(Date.now())) }),
  );
  return answer.Item;
}

describePersonBudgetContract('dynamoSendStore', {
  store: () => dynamoSendStore(db.client, db.table),
  put: async (subscription) => {
    await db.client.send(
      new PutCommand({
        TableName: db.table,
        Item: { ...keys.subscription(subscription), ...subscription },
      }),
    );
  },
  get: async (key) => {
    const answer = await db.client.send(
      new GetCommand({ TableName: db.table, Key: keys.subscription(key) }),
    );
    return answer.Item && toSubscription(answer.Item);
  },
  freshKey: () => ({ pageId: unique('page'), psid: unique('psid'), topicId: 'deals' }),
});

describe('the person budget on DynamoDB Local', () => {
  it('lets one of two sender invocations claiming two topics of one person at once send', async () => {
    // 09:00 and 21:00 UTC: 12 h apart, so neither topic yields to the other, and the 21:00 job
    // of the evening before came late: both invocations judge a send and race to the claim.
    const morning = daily('morning', '09:00');
    const evening = daily('evening', '21:00');
    const page = await aPage([morning, evening]);
    const { psid, token } = await aPerson(page, ['morning', 'evening']);
    const slot = slotAtOrBefore(morning, ZONE, Date.now());
    const job = (topicId: string, at: number): SendJob => ({
      pageId: page.pageId,
      psid,
      topicId,
      slot: at,
      scheduledTime: Date.now() - 60_000,
    });
    const events = await eventsOf([job('morning', slot), job('evening', slot - PERSON_BUDGET_MS)]);
    const sender = aSender();

    await Promise.all(events.map((event) => sender(event, context)));

    expect(graph.requestsFor(token)).toHaveLength(1);
    const { budgets } = await dynamoSendStore(db.client, db.table).readPerson({
      pageId: page.pageId,
      psid,
    });
    expect(budgets).toHaveLength(1);
    const winner = budgets[0]?.budget.topicId;
    expect(['morning', 'evening']).toContain(winner);
  });

  it('has the lower-ranked topic yield to the higher one due later, counted as budget, spending nothing', async () => {
    // The lower one fell due 5 minutes ago; the higher one falls due in 55 minutes.
    const slot = Math.floor((Date.now() - 5 * 60_000) / 60_000) * 60_000;
    const at = (instant: number) => new Date(instant).toISOString().slice(11, 16);
    const page = await aPage([
      daily('deals', at(slot)),
      daily('news', at(slot + 3_600_000), { priority: 9 }),
    ]);
    const { psid, token } = await aPerson(page, ['deals', 'news']);
    const sender = aSender();
    const [lower] = await eventsOf([
      { pageId: page.pageId, psid, topicId: 'deals', slot, scheduledTime: Date.now() - 60_000 },
    ]);
    if (!lower) throw new Error('no event');

    const response = await sender(lower, context);

    expect(response.batchItemFailures).toEqual([]);
    expect(graph.requestsFor(token)).toHaveLength(0);
    expect(await statsOf(page.pageId, 'deals')).toMatchObject({ budget: 1 });
    expect(
      (await dynamoSendStore(db.client, db.table).readPerson({ pageId: page.pageId, psid }))
        .budgets,
    ).toEqual([]);
  });

  it('costs each write of a Marketing Message send one unit and no index, a legacy claim two', async () => {
    /** The writes one send makes on the person's partition, by item kind, with their units. */
    const personWritesOfOneSend = async (route: Page['deliveryRoute']) => {
      const slot = slotAtOrBefore({ cadence: 'DAILY', sendTime: '09:00' }, ZONE, Date.now());
      const page = await aPage([daily('deals', '09:00')], route);
      const { psid } = await aPerson(page, ['deals']);
      const [event] = await eventsOf([
        { pageId: page.pageId, psid, topicId: 'deals', slot, scheduledTime: Date.now() - 60_000 },
      ]);
      if (!event) throw new Error('no event');
      const partition = keys.contact(page.pageId, psid).pk;
      const writes: { item: string; units: number; indexUnits: number }[] = [];
      const dynamo = createDynamoClient();
      dynamo.middlewareStack.add(
        (next, handlerContext) => async (args) => {
          const input = args.input as { Key?: { pk?: unknown; sk?: unknown } };
          const mine =
            handlerContext.commandName === 'UpdateItemCommand' && input.Key?.pk === partition;
          if (mine) Object.assign(input, { ReturnConsumedCapacity: 'INDEXES' });
          const result = await next(args);
          const consumed = (result.output as { ConsumedCapacity?: ConsumedCapacity })
            .ConsumedCapacity;
          if (mine) {
            const indexes = Object.values(consumed?.GlobalSecondaryIndexes ?? {});
            writes.push({
              item: String(input.Key?.sk).split('#')[0] ?? '',
              units: consumed?.CapacityUnits ?? 0,
              indexUnits: indexes.reduce((sum, index) => sum + (index.CapacityUnits ?? 0), 0),
            });
          }
          return result;
        },
        { step: 'initialize', name: 'personWrites' },
      );

      expect((await aSender(dynamo)(event, context)).batchItemFailures).toEqual([]);
      return writes;
    };

    /** Each kind of write once: a request that would leave late re-records its claims. */
    const kinds = (writes: { item: string }[]) =>
      [...new Map(writes.map((write) => [JSON.stringify(write), write])).values()].sort((a, b) =>
        a.item.localeCompare(b.item),
      );
    const legacy = await personWritesOfOneSend('send_api');
    const mm = await personWritesOfOneSend('marketing_messages');

    // The legacy claim writes its item and its due-index entry; the MM claim writes a pair the
    // index does not project, and the MM route adds the budget item and the count of the send
    // for the frequency-cap forecast (the day's conversation item).
    expect(kinds(legacy)).toEqual([{ item: 'TOPIC', units: 2, indexUnits: 1 }]);
    expect(kinds(mm)).toEqual([
      { item: 'BUDGET', units: 1, indexUnits: 0 },
      { item: 'CONVERSATIONS', units: 1, indexUnits: 0 },
      { item: 'TOPIC', units: 1, indexUnits: 0 },
    ]);
  });
});
