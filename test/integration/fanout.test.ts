import { GetQueueAttributesCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { dynamoCatalog } from '#lib/aws/dynamo-catalog.ts';
import { dynamoDueIndex, dynamoFanoutRuns } from '#lib/aws/dynamo-fanout-store.ts';
import { dynamoSubscriptionStore } from '#lib/aws/dynamo-subscription-store.ts';
import { fanoutDeps } from '#lib/aws/fanout-deps.ts';
import { duePartitionOf, keys } from '#lib/aws/keys.ts';
import { duePlacement } from '#lib/domain/due-placement.ts';
import {
  type FanoutDeps,
  type FanoutInput,
  parseFanoutInput,
  runFanout,
} from '#lib/domain/fanout/run-fanout.ts';
import type { Page } from '#lib/domain/page.ts';
import type { SendJob } from '#lib/domain/send-job.ts';
import type { Subscription } from '#lib/domain/subscription.ts';
import type { Cadence, Topic } from '#lib/domain/topic.ts';
import { silentLog } from '#lib/log.ts';
import { createTestQueue, drainQueue } from '../support/queue.ts';
import { createTestTable } from '../support/table.ts';

const at = (iso: string) => Date.parse(iso);
const HOUR = 3_600_000;

let db: Awaited<ReturnType<typeof createTestTable>>;
let queue: Awaited<ReturnType<typeof createTestQueue>>;
let handedOver: FanoutInput[];
let enqueued: { job: SendJob; delaySeconds: number }[];

const aPage = (overrides: Partial<Page> = {}): Page => ({
  pageId: '2001',
  accessToken: 'page-token-secret',
  deliveryRoute: 'send_api',
  ratePerSecond: 20,
  timezone: 'Europe/Paris',
  status: 'active',
  ...overrides,
});

const aTopic = (overrides: Partial<Topic> = {}): Topic => ({
  pageId: '2001',
  topicId: 'daily',
  title: 'Daily deals',
  cadence: 'DAILY',
  sendTime: '09:00',
  message: { text: 'Deals' },
  ...overrides,
});

/** A subscription saved through the real store, with its due placement and topic zone. */
async function aSubscription(
  topic: Topic,
  fields: Partial<Subscription> & { psid: string },
): Promise<void> {
  const subscription: Subscription = {
    pageId: topic.pageId,
    topicId: topic.topicId,
    status: 'active',
    token: `tok-${fields.psid}`,
    timezone: 'Europe/Paris',
    lastEventAt: at('2026-11-01T00:00:00Z'),
    activeSince: at('2026-11-01T00:00:00Z'),
    ...fields,
  };
  const store = dynamoSubscriptionStore(db.client, db.table);
  const placement = duePlacement(subscription, topic);
  if (placement) await store.addTopicZones(topic.pageId, topic.topicId, [placement]);
  await store.saveFromEvent(subscription, placement, undefined);
  if (fields.lastSlot !== undefined) {
    // What the sender's claim writes: the slot and when the request left.
    await db.client.send(
      new UpdateCommand({
        TableName: db.table,
        Key: keys.subscription(subscription),
        UpdateExpression: 'SET lastSlot = :slot, lastSentAt = :sentAt',
        ExpressionAttributeValues: {
          ':slot': fields.lastSlot,
          ':sentAt': fields.lastSentAt ?? fields.lastSlot,
        },
      }),
    );
  }
}

function deps(overrides: Partial<FanoutDeps> = {}): FanoutDeps {
  const wired = fanoutDeps(
    { dynamo: db.client, sqs: queue.client },
    { table: db.table, queueUrl: queue.queueUrl, lookbackHours: 6 },
    {
      continuations: {
        handOver: async (input) => {
          handedOver.push(input);
        },
      },
      log: silentLog,
    },
  );
  return { ...wired, queue: recording(wired.queue), timeLeft: () => 900_000, ...overrides };
}

/** The real queue, noting every job handed to it: a delayed job is not visible on the queue. */
function recording(real: FanoutDeps['queue']): FanoutDeps['queue'] {
  return {
    async enqueue(jobs) {
      enqueued.push(...jobs);
      await real.enqueue(jobs);
    },
  };
}

async function run(cadence: Cadence, iso: string, overrides: Partial<FanoutDeps> = {}) {
  return runFanout({ cadence, scheduledTime: at(iso) }, deps(overrides));
}

async function queuedJobs(): Promise<SendJob[]> {
  return (await drainQueue(queue)) as SendJob[];
}

const psidsOf = (jobs: SendJob[]) => jobs.map((job) => job.psid).sort();

beforeEach(async () => {
  db = await createTestTable('fanout');
  queue = await createTestQueue('fanout');
  handedOver = [];
  enqueued = [];
  const catalog = dynamoCatalog(db.client, db.table);
  await catalog.putPage(aPage());
});

describe('fan-out window', () => {
  beforeEach(async () => {
    const topic = aTopic();
    await dynamoCatalog(db.client, db.table).putTopic(topic);
    await aSubscription(topic, { psid: 'paris', timezone: 'Europe/Paris' });
    await aSubscription(topic, { psid: 'kolkata', timezone: 'Asia/Kolkata' });
    await aSubscription(topic, { psid: 'new-york', timezone: 'America/New_York' });
  });

  it('picks exactly the subscribers whose local slot the run covers', async () => {
    await dynamoFanoutRuns(db.client, db.table).complete('DAILY', at('2026-11-23T07:45:00Z'));

    const result = await run('DAILY', '2026-11-23T08:15:00Z');

    const jobs = await queuedJobs();
    expect(psidsOf(jobs)).toEqual(['paris']);
    expect(jobs[0]).toEqual({
      pageId: '2001',
      psid: 'paris',
      topicId: 'daily',
      slot: at('2026-11-23T08:00:00Z'),
      scheduledTime: at('2026-11-23T08:15:00Z'),
    });
    expect(result).toMatchObject({ queued: 1, handedOver: false });
  });

  it('catches up a missed run, and a rerun of a completed run queues nothing', async () => {
    await dynamoFanoutRuns(db.client, db.table).complete('DAILY', at('2026-11-23T03:00:00Z'));

    await run('DAILY', '2026-11-23T08:30:00Z');
    const caughtUp = await queuedJobs();
    await run('DAILY', '2026-11-23T08:30:00Z');
    await run('DAILY', '2026-11-23T08:45:00Z');
    const again = await queuedJobs();

    expect(psidsOf(caughtUp)).toEqual(['kolkata', 'paris']);
    expect(again).toEqual([]);
  });

  it('looks back no further than the lookback', async () => {
    await run('DAILY', '2026-11-23T14:15:00Z');

    expect(psidsOf(await queuedJobs())).toEqual(['new-york']);
  });

  it('follows the local send time across a DST change', async () => {
    // New York leaves DST on Sunday 1 November 2026: 09:00 local is 14:00Z that day (the
    // day before's offset would say 13:00Z).
    await dynamoFanoutRuns(db.client, db.table).complete('DAILY', at('2026-11-01T12:45:00Z'));

    await run('DAILY', '2026-11-01T13:15:00Z');
    const atOldOffset = await queuedJobs();
    await run('DAILY', '2026-11-01T14:15:00Z');
    const atNewOffset = await queuedJobs();

    expect(atOldOffset).toEqual([]);
    expect(psidsOf(atNewOffset)).toEqual(['new-york']);
    expect(atNewOffset[0]?.slot).toBe(at('2026-11-01T14:00:00Z'));
  });

  it('follows the local send time into DST, an hour before the standard offset says', async () => {
    // New York enters DST on Sunday 14 March 2027: 09:00 local is 13:00Z that day, where its
    // standard offset (and the day before's) would say 14:00Z.
    await dynamoFanoutRuns(db.client, db.table).complete('DAILY', at('2027-03-14T12:45:00Z'));

    await run('DAILY', '2027-03-14T13:15:00Z');
    const atNewOffset = await queuedJobs();
    await run('DAILY', '2027-03-14T14:15:00Z');
    const atStandardOffset = await queuedJobs();

    expect(psidsOf(atNewOffset)).toEqual(['new-york']);
    expect(atNewOffset[0]?.slot).toBe(at('2027-03-14T13:00:00Z'));
    expect(atStandardOffset).toEqual([]);
  });
});

describe('fan-out filters', () => {
  it('never queues stopped, invalid, expired, too recent or not-yet-opted-in subscribers', async () => {
    const topic = aTopic();
    await dynamoCatalog(db.client, db.table).putTopic(topic);
    const slot = at('2026-11-23T08:00:00Z');
    await aSubscription(topic, { psid: 'fresh' });
    await aSubscription(topic, { psid: 'stopped', status: 'stopped' });
    await aSubscription(topic, { psid: 'invalid' });
    await dynamoSubscriptionStore(db.client, db.table).markStatus(
      { pageId: '2001', psid: 'invalid', topicId: 'daily' },
      'invalid',
      'token invalid',
    );
    await aSubscription(topic, { psid: 'expired', tokenExpiresAt: slot - 1 });
    await aSubscription(topic, { psid: 'sent-yesterday', lastSlot: slot - 24 * HOUR });
    await aSubscription(topic, { psid: 'sent-two-days-ago', lastSlot: slot - 48 * HOUR });
    await aSubscription(topic, { psid: 'opted-in-after', activeSince: slot + 60_000 });

    await run('DAILY', '2026-11-23T08:15:00Z');

    // A job queued for a too recent send would be held back, out of sight of a receive: the
    // queue's delayed count and the jobs handed to it tell.
    const delayed = await queue.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: queue.queueUrl,
        AttributeNames: ['ApproximateNumberOfMessagesDelayed'],
      }),
    );
    expect(psidsOf(await queuedJobs())).toEqual(['fresh', 'sent-two-days-ago']);
    expect(psidsOf(enqueued.map(({ job }) => job))).toEqual(['fresh', 'sent-two-days-ago']);
    expect(delayed.Attributes?.ApproximateNumberOfMessagesDelayed).toBe('0');
  });

  it('sends daily on the 12 h route', async () => {
    await dynamoCatalog(db.client, db.table).putPage(
      aPage({ deliveryRoute: 'marketing_messages' }),
    );
    const topic = aTopic();
    await dynamoCatalog(db.client, db.table).putTopic(topic);
    await aSubscription(topic, { psid: 'daily-ok', lastSlot: at('2026-11-22T08:00:00Z') });

    await run('DAILY', '2026-11-23T08:15:00Z');

    expect(psidsOf(await queuedJobs())).toEqual(['daily-ok']);
  });

  it('skips the topics of a paused Page', async () => {
    await dynamoCatalog(db.client, db.table).putPage(aPage({ status: 'paused' }));
    const topic = aTopic();
    await dynamoCatalog(db.client, db.table).putTopic(topic);
    await aSubscription(topic, { psid: 'paused-page' });

    await run('DAILY', '2026-11-23T08:15:00Z');

    expect(await queuedJobs()).toEqual([]);
  });
});

describe('fan-out hold-back', () => {
  it("holds a job back until its token's cooldown is over when the last send left late", async () => {
    const topic = aTopic();
    await dynamoCatalog(db.client, db.table).putTopic(topic);
    const slot = at('2026-11-23T08:00:00Z');
    const twoDaysAgo = slot - 48 * HOUR;
    await aSubscription(topic, { psid: 'on-time', lastSlot: twoDaysAgo, lastSentAt: twoDaysAgo });
    await aSubscription(topic, {
      psid: 'left-late',
      lastSlot: twoDaysAgo,
      lastSentAt: twoDaysAgo + 20 * 60_000,
    });

    const result = await run('DAILY', '2026-11-23T08:15:00Z');

    const visible = await queuedJobs();
    const attributes = await queue.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: queue.queueUrl,
        AttributeNames: ['ApproximateNumberOfMessagesDelayed'],
      }),
    );
    expect(result.queued).toBe(2);
    expect(psidsOf(visible)).toEqual(['on-time']);
    expect(attributes.Attributes?.ApproximateNumberOfMessagesDelayed).toBe('1');
  });
});

describe('weekly and monthly cadences', () => {
  it('sends a WEEKLY topic on its weekday and a MONTHLY one on its day', async () => {
    const weekly = aTopic({ topicId: 'weekly', cadence: 'WEEKLY', sendTime: '10:00', weekday: 1 });
    const monthly = aTopic({
      topicId: 'monthly',
      cadence: 'MONTHLY',
      sendTime: '08:00',
      dayOfMonth: 1,
    });
    await dynamoCatalog(db.client, db.table).putTopic(weekly);
    await dynamoCatalog(db.client, db.table).putTopic(monthly);
    await aSubscription(weekly, { psid: 'w1' });
    await aSubscription(monthly, { psid: 'm1' });

    await run('WEEKLY', '2026-11-22T09:15:00Z');
    const sunday = await queuedJobs();
    await run('WEEKLY', '2026-11-23T09:15:00Z');
    const monday = await queuedJobs();
    await run('MONTHLY', '2026-12-01T07:15:00Z');
    const first = await queuedJobs();

    expect(sunday).toEqual([]);
    expect(psidsOf(monday)).toEqual(['w1']);
    expect(psidsOf(first)).toEqual(['m1']);
  });

  it('holds an old WEEKLY token to one send per calendar week of the Page', async () => {
    const weekly = aTopic({ topicId: 'weekly', cadence: 'WEEKLY', sendTime: '10:00', weekday: 1 });
    await dynamoCatalog(db.client, db.table).putTopic(weekly);
    // Sent early on Monday in Paris (this calendar week) by another slot calendar.
    const earlierThisWeek = at('2026-11-23T00:30:00Z');
    // The sends themselves left long ago: only the slot filters apply here.
    const lastSentAt = at('2026-11-16T09:00:00Z');
    await aSubscription(weekly, {
      psid: 'old-token',
      frequency: 'WEEKLY',
      lastSlot: earlierThisWeek,
      lastSentAt,
    });
    await aSubscription(weekly, { psid: 'new-token', lastSlot: earlierThisWeek, lastSentAt });

    await run('WEEKLY', '2026-11-23T09:15:00Z');

    expect(psidsOf(await queuedJobs())).toEqual(['new-token']);
  });
});

describe('large runs', () => {
  it('hands the rest over when time runs low, and the continuation completes the run once', async () => {
    const topic = aTopic();
    await dynamoCatalog(db.client, db.table).putTopic(topic);
    const psids = Array.from({ length: 120 }, (_, i) => `p${String(i).padStart(3, '0')}`);
    for (const psid of psids) await aSubscription(topic, { psid });
    let calls = 0;
    const tight = deps({
      dueIndex: dynamoDueIndex(db.client, db.table, { pageSize: 3 }),
      timeLeft: () => (++calls > 12 ? 1_000 : 900_000),
      concurrency: 2,
    });

    const first = await runFanout(
      { cadence: 'DAILY', scheduledTime: at('2026-11-23T08:15:00Z') },
      tight,
    );
    const continuation = handedOver[0];
    const lastBeforeEnd = await dynamoFanoutRuns(db.client, db.table).lastCompleted('DAILY');
    if (!continuation) throw new Error('no continuation was handed over');
    // Through JSON and the input schema, as the asynchronous invocation carries it.
    const second = await runFanout(
      parseFanoutInput(JSON.parse(JSON.stringify(continuation))),
      deps({ dueIndex: dynamoDueIndex(db.client, db.table, { pageSize: 3 }) }),
    );

    const jobs = await queuedJobs();
    expect(first.handedOver).toBe(true);
    expect(lastBeforeEnd).toBeUndefined();
    expect(second.handedOver).toBe(false);
    expect(first.queued + second.queued).toBe(120);
    expect(psidsOf(jobs)).toEqual(psids);
    expect(await dynamoFanoutRuns(db.client, db.table).lastCompleted('DAILY')).toBe(
      at('2026-11-23T08:15:00Z'),
    );
  });

  it("queues several Pages' jobs one Page at a time, so a sender batch holds every Page", async () => {
    const catalog = dynamoCatalog(db.client, db.table);
    const pageIds = ['2001', '2002', '2003'];
    for (const pageId of pageIds) {
      await catalog.putPage(aPage({ pageId }));
      const topic = aTopic({ pageId });
      await catalog.putTopic(topic);
      for (let i = 0; i < 40; i++) await aSubscription(topic, { psid: `${pageId}-${i}` });
    }

    // One reader: the Pages' partitions then answer in the order the run takes them, so this
    // checks the turns the run queues in, not which of 16 concurrent reads happens to end first.
    const result = await run('DAILY', '2026-11-23T08:15:00Z', { concurrency: 1 });

    expect(result.queued).toBe(120);
    expect(enqueued).toHaveLength(120);
    // SQS hands the sender 10 at a time: each such run of the queue holds all three Pages.
    for (let i = 0; i < enqueued.length; i += 10) {
      const pages = new Set(enqueued.slice(i, i + 10).map((entry) => entry.job.pageId));
      expect([...pages].sort()).toEqual(pageIds);
    }
    expect((await queuedJobs()).map((job) => job.psid).sort()).toEqual(
      pageIds.flatMap((pageId) => Array.from({ length: 40 }, (_, i) => `${pageId}-${i}`)).sort(),
    );
  });

  it('goes on in id order with a continuation of a release that read partitions so', async () => {
    const topic = aTopic();
    await dynamoCatalog(db.client, db.table).putTopic(topic);
    const psids = Array.from({ length: 60 }, (_, i) => `p${String(i).padStart(3, '0')}`);
    for (const psid of psids) await aSubscription(topic, { psid });
    const placement = { cadence: 'DAILY', zone: 'Europe/Paris' } as const;
    const partitionOf = (psid: string) =>
      duePartitionOf({ pageId: '2001', topicId: 'daily', psid }, placement);
    // That release had read every partition up to shard 3's id (#10 to #15 sort before #2).
    const startedThrough = partitionOf(
      psids.find((psid) => partitionOf(psid).endsWith('#3')) ?? '',
    );

    await runFanout(
      parseFanoutInput({
        cadence: 'DAILY',
        scheduledTime: at('2026-11-23T08:15:00Z'),
        continuation: { windowFrom: at('2026-11-23T07:45:00Z'), startedThrough, inProgress: [] },
      }),
      deps(),
    );

    expect(psidsOf(await queuedJobs())).toEqual(
      psids.filter((psid) => partitionOf(psid) > startedThrough),
    );
    expect(handedOver).toEqual([]);
  });

  it('retries the entries SendMessageBatch reports as failed and drops none', async () => {
    const topic = aTopic();
    await dynamoCatalog(db.client, db.table).putTopic(topic);
    const psids = Array.from({ length: 25 }, (_, i) => `f${String(i).padStart(2, '0')}`);
    for (const psid of psids) await aSubscription(topic, { psid });
    // fauxqs never fails an entry, so this one failure is injected at the SDK client.
    const realSend = queue.client.send.bind(queue.client);
    let failedOnce = false;
    const flaky = new Proxy(queue.client, {
      get(target, property, receiver) {
        if (property !== 'send') return Reflect.get(target, property, receiver);
        return async (command: SendMessageBatchCommand) => {
          const entries = command.input.Entries ?? [];
          if (failedOnce || entries.length < 2) return realSend(command);
          failedOnce = true;
          const [kept, dropped] = [entries.slice(0, -1), entries.slice(-1)];
          const answer = await realSend(
            new SendMessageBatchCommand({ ...command.input, Entries: kept }),
          );
          return {
            ...answer,
            Failed: dropped.map((entry) => ({
              Id: entry.Id,
              SenderFault: false,
              Code: 'InternalError',
            })),
          };
        };
      },
    });
    const withFlakyQueue = fanoutDeps(
      { dynamo: db.client, sqs: flaky },
      { table: db.table, queueUrl: queue.queueUrl, lookbackHours: 6 },
      { continuations: { handOver: async () => {} }, log: silentLog },
    );

    await runFanout(
      { cadence: 'DAILY', scheduledTime: at('2026-11-23T08:15:00Z') },
      { ...withFlakyQueue, timeLeft: () => 900_000 },
    );

    expect(failedOnce).toBe(true);
    expect(psidsOf(await queuedJobs())).toEqual(psids);
  });
});
