import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createDynamoClient, createSqsClient } from '#lib/aws/clients.ts';
import { createTable } from '#lib/aws/create-table.ts';
import { dynamoCatalog } from '#lib/aws/dynamo-catalog.ts';
import { fanoutDeps } from '#lib/aws/fanout-deps.ts';
import { SEND_QUEUE } from '#lib/aws/queue-definition.ts';
import { senderDeps } from '#lib/aws/sender-deps.ts';
import { webhookDeps } from '#lib/aws/webhook-deps.ts';
import { systemClock } from '#lib/clock.ts';
import { chunk, mapWithConcurrency } from '#lib/concurrency.ts';
import { fanoutConfigSchema, senderConfigSchema, webhookConfigSchema } from '#lib/config.ts';
import type { FanoutResult } from '#lib/domain/fanout/run-fanout.ts';
import type { SendJob } from '#lib/domain/send-job.ts';
import { DEFAULT_SENDER_OPTIONS } from '#lib/domain/sending/ports.ts';
import type { Subscription } from '#lib/domain/subscription.ts';
import type { Cadence, Topic } from '#lib/domain/topic.ts';
import { graphClient } from '#lib/graph/graph-client.ts';
import type { Log } from '#lib/log.ts';
import { createFanoutHandler } from '../functions/fanout.ts';
import { createSenderHandler } from '../functions/sender.ts';
import { createWebhookHandler } from '../functions/webhook.ts';
import { lambdaContext, readBody, toApiEvent, writeApiResult } from '../local/api-gateway.ts';
import { pointSdkAt, startDynamoDbLocal, startFauxqs } from '../local/emulators.ts';
import { type MetaSimulator, startMetaSimulator } from '../local/meta-simulator/index.ts';
import { startQueuePoller } from '../local/queue-poller.ts';
import { createSendQueues } from '../local/queues.ts';
import { emptyCounts, instrumentDynamo, instrumentSqs, type RequestCounts } from './instrument.ts';
import { countingLog, instances, seedSubscriptions, serveWebhook } from './pipeline-parts.ts';

/**
 * The deployed pipeline on one machine, counted: DynamoDB Local, fauxqs, the Meta simulator,
 * and the real webhook, fan-out and sender handlers wired as on AWS (the simulator's status
 * webhooks reach the webhook handler; an event source mapping stand-in feeds the sender).
 * Every SDK request, capacity unit, invocation, handler millisecond and log byte the
 * pipeline makes is counted; set-up (seeding) goes through uncounted clients.
 */

export type FunctionName = 'webhook' | 'fanout' | 'sender';

/** Memory of each function as `cdk/recurring-notifications.ts` deploys it. */
export const MEMORY_MB: Record<FunctionName, number> = { webhook: 1024, fanout: 512, sender: 512 };

/** What one function (or the event source mapping, `esm`) used. */
export interface FunctionCounts {
  dynamo: RequestCounts;
  sqs: RequestCounts;
  invocations: number;
  /** Summed handler time, ms. */
  durationMs: number;
  /** Lambda instances it took: concurrent invocations each need their own. */
  instances: number;
}

/** Everything the pipeline used since the last `resetCounts`. */
export interface PipelineCounts {
  functions: Record<FunctionName | 'esm', FunctionCounts>;
  /** HTTP API requests: the status webhooks Meta sends about our messages. */
  apiRequests: number;
  /** What CloudWatch Logs would ingest, estimated from the lines the handlers log. */
  logBytes: number;
  /** The same, per function. */
  logBytesBy: Record<FunctionName, number>;
}

export interface BenchPage {
  pageId: string;
  ratePerSecond: number;
}

export interface Pipeline {
  table: string;
  queueUrl: string;
  simulator: MetaSimulator;
  counts: PipelineCounts;
  resetCounts(): void;
  /** A Page on the Marketing Message API (its own ad account and campaign), in both worlds. */
  addPage(page: BenchPage): Promise<void>;
  /** One DAILY topic at `sendTime` (UTC) for the Page. */
  addTopic(pageId: string, topicId: string, sendTime: string): Promise<Topic>;
  /** People opted in long ago: a token at Meta, an active subscription in the due index. */
  addSubscribers(topic: Topic, psids: readonly string[], activeSince: number): Promise<void>;
  /** Queues jobs directly, as a fan-out run would, for benchmarks of the sender alone. */
  enqueue(jobs: readonly SendJob[]): Promise<void>;
  fanout(cadence: Cadence, scheduledTime: number): Promise<FanoutResult>;
  /** Starts the event source mapping stand-in with `concurrency` sender instances at most. */
  startSenders(concurrency: number): void;
  /** Messages visible plus in flight, read without being counted. */
  queueDepth(): Promise<number>;
  stop(): Promise<void>;
}

const APP_SECRET = 'bench-app-secret';
const FANOUT_TIMEOUT_MS = 15 * 60_000;
/** The deployed defaults, read from the functions' configuration schemas. */
const LOOKBACK_HOURS = fanoutConfigSchema.shape.LOOKBACK_HOURS.parse(undefined);
const GRAPH_VERSION = senderConfigSchema.shape.META_GRAPH_VERSION.parse(undefined);
const MAX_BODY_BYTES = webhookConfigSchema.shape.MAX_BODY_BYTES.parse(undefined);
/**
 * Lambda's own lines per invocation with JSON log format (platform.start and platform.report),
 * bytes each, as seen in CloudWatch; an estimate, not measured here.
 */
const PLATFORM_LOG_BYTES = 2 * 350;

/** Starts DynamoDB Local and fauxqs for the process and points the SDK at them. */
export async function startEmulators(): Promise<{ stop: () => Promise<void> }> {
  const [dynamo, sqs] = await Promise.all([startDynamoDbLocal(), startFauxqs()]);
  pointSdkAt({ dynamo: dynamo.endpoint, sqs: sqs.endpoint });
  return { stop: async () => void (await Promise.all([dynamo.stop(), sqs.stop()])) };
}

/** A fresh table, queues, simulator and handlers; emulators must be running. */
export async function createPipeline(options: {
  name: string;
  graphLatencyMs: number;
  /**
   * Whether Meta's status webhooks reach the webhook handler (default true). On AWS it runs
   * in Lambdas of its own; here it shares the sender's event loop.
   */
  statusWebhooks?: boolean;
}): Promise<Pipeline> {
  const table = `bench-${options.name}-${Date.now()}`;
  const setupDb = createDynamoClient();
  const setupSqs = createSqsClient();
  await createTable(new DynamoDBClient({}), table);
  const queues = await createSendQueues(setupSqs, `${table}-send`);
  const simulator = await startMetaSimulator({
    clock: systemClock,
    appSecret: APP_SECRET,
    faults: { latencyMs: options.graphLatencyMs },
    arrivalFront: {},
  });

  const counts = freshCounts();
  // Counted clients per function; a reset zeroes these same objects in place.
  const clientsOf = (name: FunctionName | 'esm') => {
    const dynamo = createDynamoClient();
    const sqs = createSqsClient();
    instrumentDynamo(dynamo, counts.functions[name].dynamo);
    instrumentSqs(sqs, counts.functions[name].sqs);
    return { dynamo, sqs };
  };
  const clients = {
    webhook: clientsOf('webhook'),
    fanout: clientsOf('fanout'),
    sender: clientsOf('sender'),
    esm: clientsOf('esm'),
  };
  const logFor = (name: FunctionName): Log =>
    countingLog(name, (bytes) => {
      counts.logBytes += bytes;
      counts.logBytesBy[name] += bytes;
    });
  const timed = <E, R>(
    name: FunctionName,
    make: () => (event: E, context: Context) => Promise<R>,
  ) =>
    instances(make, (durationMs, isNew) => {
      const entry = counts.functions[name];
      entry.invocations++;
      entry.durationMs += durationMs;
      if (isNew) entry.instances++;
      counts.logBytes += PLATFORM_LOG_BYTES;
      counts.logBytesBy[name] += PLATFORM_LOG_BYTES;
    });

  const webhook = timed('webhook', () =>
    createWebhookHandler(
      { appSecret: APP_SECRET, verifyToken: 'bench', maxBodyBytes: MAX_BODY_BYTES },
      webhookDeps(clients.webhook.dynamo, table, { clock: systemClock, log: logFor('webhook') }),
    ),
  );
  const fanout = timed(
    'fanout',
    (): ((event: unknown, context: Context) => Promise<FanoutResult>) =>
      createFanoutHandler(
        fanoutDeps(
          clients.fanout,
          { table, queueUrl: queues.send, lookbackHours: LOOKBACK_HOURS },
          {
            // A continuation is one more invocation, as Lambda's asynchronous invoke would be.
            continuations: {
              handOver: async (input) => {
                await fanout(input, lambdaContext('fanout', FANOUT_TIMEOUT_MS));
              },
            },
            log: logFor('fanout'),
          },
        ),
      ),
  );
  const sender = timed(
    'sender',
    (): ((event: SQSEvent, context: Context) => Promise<SQSBatchResponse>) =>
      createSenderHandler(
        DEFAULT_SENDER_OPTIONS,
        senderDeps(
          clients.sender,
          { table, queueUrl: queues.send, burst: DEFAULT_SENDER_OPTIONS.burst },
          {
            graph: graphClient({ baseUrl: simulator.url, version: GRAPH_VERSION }),
            clock: systemClock,
            log: logFor('sender'),
          },
        ),
      ),
  );

  const server = await serveWebhook(async (request, response) => {
    counts.apiRequests++;
    const body = (await readBody(request, MAX_BODY_BYTES + 1)) ?? Buffer.alloc(0);
    const result = await webhook(
      toApiEvent(request, body, Date.now()),
      lambdaContext('webhook', 4_000),
    );
    writeApiResult(response, result);
  });
  if (options.statusWebhooks ?? true) {
    simulator.setWebhookUrl(`http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`);
  }

  const catalog = dynamoCatalog(setupDb, table);
  let poller: ReturnType<typeof startQueuePoller> | undefined;

  return {
    table,
    queueUrl: queues.send,
    simulator,
    counts,
    resetCounts() {
      for (const fn of Object.values(counts.functions)) {
        Object.assign(fn.dynamo, emptyCounts());
        Object.assign(fn.sqs, emptyCounts());
        Object.assign(fn, { invocations: 0, durationMs: 0, instances: 0 });
      }
      Object.assign(counts, { apiRequests: 0, logBytes: 0 });
      Object.assign(counts.logBytesBy, { webhook: 0, fanout: 0, sender: 0 });
    },

    async addPage({ pageId, ratePerSecond }) {
      const adAccountId = `ad-${pageId}`;
      const systemUserToken = `bench-system-user-${pageId}`;
      simulator.addPage({
        id: pageId,
        accessToken: `bench-page-token-${pageId}`,
        adAccountId,
        systemUserToken,
        ratePerSecond,
        timezone: 'UTC',
      });
      const campaignId = simulator.addCampaign({ adAccountId, pageId });
      await catalog.putPage({
        pageId,
        accessToken: systemUserToken,
        deliveryRoute: 'marketing_messages',
        adAccountId,
        campaignId,
        ratePerSecond,
        timezone: 'UTC',
        // A benchmark sends at whatever hour it is run: the default 21:00-08:00 would skip it all.
        quietHours: { start: '00:00', end: '00:00' },
        status: 'active',
      });
    },

    async addTopic(pageId, topicId, sendTime) {
      const topic: Topic = {
        pageId,
        topicId,
        title: `Bench ${topicId}`,
        cadence: 'DAILY',
        sendTime,
        message: { text: 'Today only: 20 % off everything.' },
      };
      await catalog.putTopic(topic);
      return topic;
    },

    async addSubscribers(topic, psids, activeSince) {
      const subscriptions = psids.map((psid): Subscription => {
        simulator.addPerson({ pageId: topic.pageId, psid, timezone: 'UTC' });
        const token = simulator.seedToken({
          pageId: topic.pageId,
          psid,
          topicId: topic.topicId,
          title: topic.title,
          createdAt: activeSince,
        }).token;
        return {
          pageId: topic.pageId,
          psid,
          topicId: topic.topicId,
          status: 'active',
          token,
          timezone: 'UTC',
          lastEventAt: activeSince,
          activeSince,
        };
      });
      await seedSubscriptions(setupDb, table, topic, subscriptions);
    },

    async enqueue(jobs) {
      await mapWithConcurrency(chunk(jobs, 10), 8, async (batch) => {
        await setupSqs.send(
          new SendMessageBatchCommand({
            QueueUrl: queues.send,
            Entries: batch.map((job, index) => ({
              Id: String(index),
              MessageBody: JSON.stringify(job),
            })),
          }),
        );
      });
    },

    fanout: (cadence, scheduledTime) =>
      fanout(
        { cadence, scheduledTime: new Date(scheduledTime).toISOString() },
        lambdaContext('fanout', FANOUT_TIMEOUT_MS),
      ),

    startSenders(concurrency) {
      poller = startQueuePoller({
        sqs: clients.esm.sqs,
        queueUrl: queues.send,
        queueArn: queues.sendArn,
        handler: sender,
        batchSize: SEND_QUEUE.batchSize,
        maxConcurrency: concurrency,
        functionTimeoutMs: SEND_QUEUE.senderTimeoutSeconds * 1000,
        log: logFor('sender'),
      });
    },

    async queueDepth() {
      const answer = await setupSqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queues.send,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      const attributes = answer.Attributes ?? {};
      return (
        Number(attributes.ApproximateNumberOfMessages ?? 0) +
        Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0)
      );
    },

    async stop() {
      await poller?.stop();
      await simulator.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      for (const { dynamo, sqs } of Object.values(clients)) {
        dynamo.destroy();
        sqs.destroy();
      }
      setupDb.destroy();
      setupSqs.destroy();
    },
  };
}

function freshCounts(): PipelineCounts {
  const fn = (): FunctionCounts => ({
    dynamo: emptyCounts(),
    sqs: emptyCounts(),
    invocations: 0,
    durationMs: 0,
    instances: 0,
  });
  return {
    functions: { webhook: fn(), fanout: fn(), sender: fn(), esm: fn() },
    apiRequests: 0,
    logBytes: 0,
    logBytesBy: { webhook: 0, fanout: 0, sender: 0 },
  };
}
