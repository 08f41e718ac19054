import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSEvent } from 'aws-lambda';
import { createDynamoClient, createSqsClient } from '#lib/aws/clients.ts';
import { createTable } from '#lib/aws/create-table.ts';
import { batchWrite } from '#lib/aws/dynamo-batch.ts';
import { dynamoCatalog } from '#lib/aws/dynamo-catalog.ts';
import { keys } from '#lib/aws/keys.ts';
import { senderDeps } from '#lib/aws/sender-deps.ts';
import { systemClock } from '#lib/clock.ts';
import { chunk, mapWithConcurrency } from '#lib/concurrency.ts';
import { DEFAULT_SENDER_OPTIONS } from '#lib/domain/send-message.ts';
import { slotAtOrBefore } from '#lib/domain/slots.ts';
import { graphClient } from '#lib/graph/graph-client.ts';
import { silentLog } from '#lib/log.ts';
import { createSenderHandler } from '../functions/sender.ts';
import { pointSdkAt, startDynamoDbLocal, startFauxqs } from '../local/emulators.ts';
import { startGraphStandIn } from '../test/support/graph-stand-in.ts';
import { printTable, writeResult } from './support.ts';

/**
 * Achieved send rate against a Page's configured `ratePerSecond`, driving the real sender
 * handler with SQS batches of 10 from fauxqs (pollers standing in for the event source
 * mapping) against a Graph stand-in that answers in 50 ms and enforces the same rate.
 */
const RATES = (process.env.RATES ?? '20,100,300').split(',').map(Number);
const SENDS = 3_000;
/**
 * Concurrent pollers (Lambda instances), as the event source mapping scales them: four, or
 * enough to carry the rate when a batch takes about a quarter of a second end to end here.
 */
const pollersFor = (rate: number) =>
  Number(process.env.POLLERS ?? Math.max(4, Math.ceil(rate / 30)));
const LATENCY_MS = 50;
const TOPIC_ID = 'bench-topic';
const RULE = { cadence: 'DAILY', sendTime: '09:00' } as const;
const ZONE = 'UTC';

interface Counts {
  dynamoWriteUnits: number;
  dynamoReadUnits: number;
  dynamoRequests: number;
  sqsRequests: number;
  sqsByCommand: Record<string, number>;
}

const emptyCounts = (): Counts => ({
  dynamoWriteUnits: 0,
  dynamoReadUnits: 0,
  dynamoRequests: 0,
  sqsRequests: 0,
  sqsByCommand: {},
});

/** Counts every DynamoDB call and the write units it costs (items here are all under 1 KB). */
function countDynamo(client: DynamoDBDocumentClient, counts: Counts): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      counts.dynamoRequests++;
      switch (context.commandName) {
        case 'PutItemCommand':
        case 'UpdateItemCommand':
        case 'DeleteItemCommand':
          // A failed conditional write costs its write unit too.
          counts.dynamoWriteUnits++;
          break;
        case 'BatchWriteItemCommand':
          for (const requests of Object.values(
            (input.RequestItems ?? {}) as Record<string, unknown[]>,
          )) {
            counts.dynamoWriteUnits += requests.length;
          }
          break;
        case 'TransactWriteItemsCommand':
          counts.dynamoWriteUnits +=
            2 * ((input.TransactItems as unknown[] | undefined)?.length ?? 0);
          break;
        case 'GetItemCommand':
          counts.dynamoReadUnits += input.ConsistentRead ? 1 : 0.5;
          break;
        case 'BatchGetItemCommand':
          for (const request of Object.values(
            (input.RequestItems ?? {}) as Record<string, { Keys?: unknown[] }>,
          )) {
            counts.dynamoReadUnits += request.Keys?.length ?? 0;
          }
          break;
      }
      return next(args);
    },
    { step: 'initialize', name: 'benchDynamoCounter' },
  );
}

function countSqs(client: SQSClient, counts: Counts): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      counts.sqsRequests++;
      const name = context.commandName ?? 'unknown';
      counts.sqsByCommand[name] = (counts.sqsByCommand[name] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'benchSqsCounter' },
  );
}

const [dynamo, queues] = await Promise.all([startDynamoDbLocal(), startFauxqs()]);
pointSdkAt({ dynamo: dynamo.endpoint, sqs: queues.endpoint });

try {
  const table = 'bench-sender';
  await createTable(new DynamoDBClient({}), table);
  const seedDb = createDynamoClient();
  const seedSqs = createSqsClient();
  const rows: Record<string, string | number>[] = [];
  const results: unknown[] = [];
  for (const rate of RATES) {
    const pageId = `bench-page-${rate}`;
    const graph = await startGraphStandIn({
      latencyMs: LATENCY_MS,
      rateLimit: { perSecond: rate, allowance: DEFAULT_SENDER_OPTIONS.burst },
    });
    const queueUrl = await seed(seedDb, seedSqs, table, pageId, rate);
    const counts = emptyCounts();
    const started = performance.now();
    const pollers = pollersFor(rate);
    await drive(
      table,
      queueUrl,
      graph.url,
      pollers,
      counts,
      () => accepted(graph.requests) >= SENDS,
    );
    const seconds = (performance.now() - started) / 1000;
    const ok = graph.requests.filter((request) => !request.rateLimited);
    const times = ok.map((request) => request.at).sort((a, b) => a - b);
    const span = ((times.at(-1) ?? 0) - (times[0] ?? 0)) / 1000;
    const achieved = span > 0 ? (ok.length - 1) / span : 0;
    const rateLimited = graph.requests.length - ok.length;
    const perThousand = (value: number) => Math.round((value / ok.length) * 1000);
    const row = {
      'rate/s': rate,
      pollers,
      sends: ok.length,
      'achieved/s': achieved.toFixed(1),
      ratio: (achieved / rate).toFixed(3),
      'max in 1 s': graph.maxInWindow(1_000, `act_ad-${rate}`),
      'rate-limit errors': rateLimited,
      'WCU/1k': perThousand(counts.dynamoWriteUnits),
      'RCU/1k': perThousand(counts.dynamoReadUnits),
      'SQS req/1k': perThousand(counts.sqsRequests),
      'wall s': seconds.toFixed(1),
    };
    rows.push(row);
    results.push({ ...row, sqsByCommand: counts.sqsByCommand });
    console.log(`rate ${rate}/s done: ${JSON.stringify(row)}`);
    await graph.close();
  }
  printTable(rows);
  const file = await writeResult('sender-pacing', {
    sendsPerRate: SENDS,
    graphLatencyMs: LATENCY_MS,
    standInLimit: 'rate + 10 (one batch) requests in any sliding 1 s window',
    rows: results,
  });
  console.log(`written to ${file}`);
} finally {
  await Promise.all([dynamo.stop(), queues.stop()]);
}

function accepted(requests: readonly { rateLimited: boolean }[]): number {
  return requests.filter((request) => !request.rateLimited).length;
}

/** A Page at `rate`, one topic, SENDS subscribers, and one due job each on a fresh queue. */
async function seed(
  db: DynamoDBDocumentClient,
  sqs: SQSClient,
  table: string,
  pageId: string,
  rate: number,
): Promise<string> {
  const catalog = dynamoCatalog(db, table);
  await catalog.putPage({
    pageId,
    accessToken: `bench-page-token-${rate}`,
    deliveryRoute: 'marketing_messages',
    adAccountId: `ad-${rate}`,
    campaignId: 'bench-campaign',
    ratePerSecond: rate,
    timezone: ZONE,
    status: 'active',
  });
  // The stand-in limits per path target: the ad account stands for the Page on this route.
  await catalog.putTopic({
    pageId,
    topicId: TOPIC_ID,
    title: 'Bench',
    ...RULE,
    message: { text: 'bench' },
  });
  const now = Date.now();
  const psids = Array.from({ length: SENDS }, (_, i) => `p${i}`);
  await batchWrite(
    db,
    table,
    psids.map((psid) => ({
      PutRequest: {
        Item: {
          ...keys.subscription({ pageId, psid, topicId: TOPIC_ID }),
          pageId,
          psid,
          topicId: TOPIC_ID,
          status: 'active',
          token: `tok-${rate}-${psid}`,
          timezone: ZONE,
          lastEventAt: now - 10 * 86_400_000,
          activeSince: now - 10 * 86_400_000,
          version: 1,
        },
      },
    })),
  );
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({
      QueueName: `bench-send-${rate}-${now}`,
      Attributes: { VisibilityTimeout: '60' },
    }),
  );
  if (!QueueUrl) throw new Error('no queue');
  const slot = slotAtOrBefore(RULE, ZONE, now);
  await mapWithConcurrency(chunk(psids, 10), 8, async (batch) => {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: batch.map((psid, index) => ({
          Id: String(index),
          MessageBody: JSON.stringify({
            pageId,
            psid,
            topicId: TOPIC_ID,
            slot,
            scheduledTime: now,
          }),
        })),
      }),
    );
  });
  return QueueUrl;
}

/** Pollers like the SQS event source mapping: receive 10, invoke, delete what succeeded. */
async function drive(
  table: string,
  queueUrl: string,
  graphUrl: string,
  pollers: number,
  counts: Counts,
  done: () => boolean,
): Promise<void> {
  const deadline = Date.now() + 10 * 60_000;
  await Promise.all(
    Array.from({ length: pollers }, async () => {
      // One Lambda instance each: its own clients, caches and bucket knowledge.
      const db = createDynamoClient();
      const sqs = createSqsClient();
      countDynamo(db, counts);
      countSqs(sqs, counts);
      const handler = createSenderHandler(
        DEFAULT_SENDER_OPTIONS,
        senderDeps(
          { dynamo: db, sqs },
          { table, queueUrl, burst: DEFAULT_SENDER_OPTIONS.burst },
          {
            graph: graphClient({ baseUrl: graphUrl, version: 'v24.0' }),
            clock: systemClock,
            log: silentLog,
          },
        ),
      );
      while (!done() && Date.now() < deadline) {
        const answer = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
        );
        const messages = answer.Messages ?? [];
        if (messages.length === 0) continue;
        const response = await handler(eventOf(messages), {} as Context);
        const kept = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
        const finished = messages.filter((message) => !kept.has(message.MessageId ?? ''));
        if (finished.length > 0) {
          await sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: finished.map((message, index) => ({
                Id: String(index),
                ReceiptHandle: message.ReceiptHandle,
              })),
            }),
          );
        }
      }
      db.destroy();
      sqs.destroy();
    }),
  );
}

function eventOf(messages: readonly Message[]): SQSEvent {
  return {
    Records: messages.map((message) => ({
      messageId: message.MessageId ?? '',
      receiptHandle: message.ReceiptHandle ?? '',
      body: message.Body ?? '',
      attributes: {
        ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount ?? '1',
        SentTimestamp: '0',
        SenderId: 'bench',
        ApproximateFirstReceiveTimestamp: '0',
      },
      messageAttributes: {},
      md5OfBody: message.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:bench',
      awsRegion: 'us-east-1',
    })),
  };
}
