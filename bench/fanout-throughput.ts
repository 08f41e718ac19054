import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { createDynamoClient, createSqsClient } from '#lib/aws/clients.ts';
import { createTable } from '#lib/aws/create-table.ts';
import { dynamoCatalog } from '#lib/aws/dynamo-catalog.ts';
import { dynamoDueIndex } from '#lib/aws/dynamo-fanout-store.ts';
import { dynamoSubscriptionStore } from '#lib/aws/dynamo-subscription-store.ts';
import { fanoutDeps } from '#lib/aws/fanout-deps.ts';
import { keys } from '#lib/aws/keys.ts';
import { sqsSendQueue } from '#lib/aws/sqs-send-queue.ts';
import { TABLE } from '#lib/aws/table-definition.ts';
import { mapWithConcurrency } from '#lib/concurrency.ts';
import { fanoutConfigSchema } from '#lib/config.ts';
import { duePlacement } from '#lib/domain/due-placement.ts';
import { planPartitions, runFanout } from '#lib/domain/fanout/run-fanout.ts';
import type { Subscription } from '#lib/domain/subscription.ts';
import { CADENCES, type Topic } from '#lib/domain/topic.ts';
import { silentLog } from '#lib/log.ts';
import { emptyCounts, instrumentDynamo, instrumentSqs, totalRequests } from './instrument.ts';
import { startEmulators } from './pipeline.ts';
import { printTable, summarise, writeResult } from './support.ts';

/**
 * Fan-out throughput against DynamoDB Local + fauxqs, next to a bare loop doing only the
 * minimal Query + SendMessageBatch calls on the same data. Sizes: FANOUT_SUBSCRIPTIONS, a
 * comma-separated list (default 10,000 and 100,000), each on a fresh table.
 */
const quick = process.argv.includes('--quick');
/** `--quick`: one run of the smaller size only. */
const SIZES = (process.env.FANOUT_SUBSCRIPTIONS ?? (quick ? '10000' : '10000,100000'))
  .split(',')
  .map(Number);
const RUNS = quick ? 1 : Number(process.env.FANOUT_RUNS ?? 3);
const NOT_DUE_SHARE = 0.1;
// Monday 1 February 2027: a DAILY, a WEEKLY (Monday) and a MONTHLY (1st) slot all at 09:00.
const RUN_AT = Date.parse('2027-02-01T12:00:00Z');
/** The deployed fan-out's window, read from its configuration schema. */
const LOOKBACK_HOURS = fanoutConfigSchema.shape.LOOKBACK_HOURS.parse(undefined);
const ZONES = [
  'America/Sao_Paulo',
  'America/Argentina/Buenos_Aires',
  'Atlantic/Azores',
  'Atlantic/Cape_Verde',
  'Europe/London',
  'Africa/Abidjan',
  'Europe/Paris',
  'Africa/Lagos',
  'Europe/Berlin',
  'Europe/Athens',
  'Africa/Cairo',
  'Europe/Helsinki',
];

const emulators = await startEmulators();

try {
  const sizes = [];
  for (const size of SIZES) sizes.push(await measure(size));
  printTable(
    sizes.map((size) => ({
      subscriptions: size.subscriptions,
      'fan-out due/s': Math.round(size.fanout.median),
      'bare items/s': Math.round(size.bare.median),
      ratio: size.ratioToBare.toFixed(2),
      'RU/1k jobs': size.readUnitsPer1000Jobs.toFixed(1),
      'SQS/1k jobs': size.sqsRequestsPer1000Jobs.toFixed(1),
    })),
  );
  console.log(`written to ${await writeResult('fanout-throughput', { sizes })}`);
} finally {
  await emulators.stop();
}

async function seed(
  db: DynamoDBDocumentClient,
  table: string,
  subscriptions: number,
): Promise<void> {
  const catalog = dynamoCatalog(db, table);
  await catalog.putPage({
    pageId: 'bench',
    accessToken: 'bench-token',
    deliveryRoute: 'send_api',
    ratePerSecond: 20,
    timezone: 'Europe/Paris',
    status: 'active',
  });
  const topics: Topic[] = CADENCES.map((cadence) => ({
    pageId: 'bench',
    topicId: cadence.toLowerCase(),
    title: cadence,
    cadence,
    sendTime: '09:00',
    weekday: 1,
    dayOfMonth: 1,
    message: { text: 'bench' },
  }));
  for (const topic of topics) await catalog.putTopic(topic);
  const store = dynamoSubscriptionStore(db, table);
  for (const topic of topics) {
    await store.addTopicZones(
      'bench',
      topic.topicId,
      ZONES.map((zone) => ({ cadence: topic.cadence, zone })),
    );
  }
  await mapWithConcurrency(
    Array.from({ length: subscriptions }, (_, i) => i),
    64,
    async (i) => {
      const topic = topics[i % topics.length] as Topic;
      const subscription: Subscription = {
        pageId: 'bench',
        psid: `p${i}`,
        topicId: topic.topicId,
        status: 'active',
        token: `token-${i}`,
        timezone: ZONES[i % ZONES.length] as string,
        lastEventAt: RUN_AT - 30 * 86_400_000,
        activeSince: RUN_AT - 30 * 86_400_000,
      };
      await store.saveFromEvent(subscription, duePlacement(subscription, topic), undefined);
      // A share was sent yesterday: read by the fan-out, filtered out as not due.
      if (i % Math.round(1 / NOT_DUE_SHARE) === 0) {
        await db.send(
          new UpdateCommand({
            TableName: table,
            Key: keys.subscription(subscription),
            UpdateExpression: 'SET lastSlot = :slot',
            ExpressionAttributeValues: { ':slot': RUN_AT - 86_400_000 },
          }),
        );
      }
    },
  );
}

async function resetRuns(db: DynamoDBDocumentClient, table: string): Promise<void> {
  for (const cadence of CADENCES) {
    await db.send(new DeleteCommand({ TableName: table, Key: keys.fanoutRun(cadence) }));
  }
}

async function newQueue(client: SQSClient, name: string): Promise<string> {
  const answer = await client.send(new CreateQueueCommand({ QueueName: `${name}-${Date.now()}` }));
  if (!answer.QueueUrl) throw new Error('no queue url');
  return answer.QueueUrl;
}

/** Only the unavoidable calls: Query every partition (no filter) and queue what comes back. */
async function bareLoop(
  db: DynamoDBDocumentClient,
  queues: SQSClient,
  table: string,
  queueUrl: string,
): Promise<number> {
  const plans = await dynamoCatalog(db, table).listPlans();
  const queue = sqsSendQueue(queues, queueUrl);
  let queued = 0;
  for (const cadence of CADENCES) {
    const work = planPartitions(plans, cadence, RUN_AT - LOOKBACK_HOURS * 3_600_000, RUN_AT, {
      dueIndex: dynamoDueIndex(db, table),
      log: silentLog,
    });
    await mapWithConcurrency(work, 16, async (partition) => {
      let startKey: Record<string, unknown> | undefined;
      do {
        const answer = await db.send(
          new QueryCommand({
            TableName: table,
            IndexName: TABLE.dueIndex.name,
            KeyConditionExpression: '#pk = :pk',
            ExpressionAttributeNames: { '#pk': TABLE.dueIndex.partitionKey },
            ExpressionAttributeValues: { ':pk': partition.partition },
            ProjectionExpression: 'psid',
            ...(startKey && { ExclusiveStartKey: startKey }),
          }),
        );
        const items = answer.Items ?? [];
        await queue.enqueue(
          items.map((item) => ({
            job: {
              pageId: partition.pageId,
              psid: String(item.psid),
              topicId: partition.topicId,
              slot: partition.slot,
              scheduledTime: RUN_AT,
            },
            delaySeconds: 0,
          })),
        );
        queued += items.length;
        startKey = answer.LastEvaluatedKey;
      } while (startKey);
    });
  }
  return queued;
}

/** Seeds a fresh table of `subscriptions` and measures RUNS fan-outs and bare loops on it. */
async function measure(subscriptions: number) {
  const table = `bench-fanout-${subscriptions}`;
  const db = createDynamoClient();
  const queues = createSqsClient();
  await createTable(new DynamoDBClient({}), table);
  const seedStarted = performance.now();
  await seed(db, table, subscriptions);
  console.log(
    `seeded ${subscriptions} subscriptions in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`,
  );

  const fanoutSamples: number[] = [];
  const bareSamples: number[] = [];
  let measured = { queued: 0, scanned: 0, counts: emptyCounts() };
  for (let run = 0; run < RUNS; run++) {
    const counts = emptyCounts();
    const countedDb = createDynamoClient();
    const countedQueues = createSqsClient();
    instrumentDynamo(countedDb, counts);
    instrumentSqs(countedQueues, counts);
    await resetRuns(db, table);
    const queueUrl = await newQueue(queues, `fanout-${run}`);
    const deps = fanoutDeps(
      { dynamo: countedDb, sqs: countedQueues },
      { table, queueUrl, lookbackHours: LOOKBACK_HOURS },
      { continuations: { handOver: async () => {} }, log: silentLog },
    );
    const started = performance.now();
    let queued = 0;
    let scanned = 0;
    for (const cadence of CADENCES) {
      const result = await runFanout(
        { cadence, scheduledTime: RUN_AT },
        { ...deps, timeLeft: () => 900_000 },
      );
      queued += result.queued;
      scanned += result.scanned;
    }
    const seconds = (performance.now() - started) / 1000;
    fanoutSamples.push(queued / seconds);
    measured = { queued, scanned, counts };

    const bareUrl = await newQueue(queues, `bare-${run}`);
    const bareStarted = performance.now();
    const bareQueued = await bareLoop(db, queues, table, bareUrl);
    bareSamples.push(bareQueued / ((performance.now() - bareStarted) / 1000));
    console.log(
      `run ${run + 1}: fan-out ${queued} due in ${seconds.toFixed(1)} s; bare loop ${bareQueued} items`,
    );
  }

  const fanout = summarise(fanoutSamples);
  const bare = summarise(bareSamples);
  const perThousand = (n: number) => (n / measured.queued) * 1000;
  const sqsRequests = measured.counts.requests.SendMessageBatchCommand ?? 0;
  const rows = [
    {
      loop: 'fan-out (due/s)',
      median: Math.round(fanout.median),
      min: Math.round(fanout.min),
      max: Math.round(fanout.max),
    },
    {
      loop: 'bare Query+SendMessageBatch (items/s)',
      median: Math.round(bare.median),
      min: Math.round(bare.min),
      max: Math.round(bare.max),
    },
  ];
  printTable(rows);
  const report = {
    subscriptions: subscriptions,
    due: measured.queued,
    ratioToBare: fanout.median / bare.median,
    readUnitsPer1000Jobs: perThousand(measured.counts.readUnits),
    dynamoRequestsPer1000Jobs: perThousand(totalRequests(measured.counts) - sqsRequests),
    sqsRequestsPer1000Jobs: perThousand(sqsRequests),
    itemsReadNotDue: measured.scanned - measured.queued,
    requests: measured.counts.requests,
  };
  console.log(report);
  return { rows, ...report, fanout, bare };
}
