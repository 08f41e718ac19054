import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { adminDeps } from '#lib/aws/admin-deps.ts';
import { createDynamoClient, createSqsClient } from '#lib/aws/clients.ts';
import { createTable } from '#lib/aws/create-table.ts';
import { fanoutDeps } from '#lib/aws/fanout-deps.ts';
import { SEND_QUEUE } from '#lib/aws/queue-definition.ts';
import { senderDeps } from '#lib/aws/sender-deps.ts';
import { webhookDeps } from '#lib/aws/webhook-deps.ts';
import { adminConfigSchema, fanoutConfigSchema } from '#lib/config.ts';
import { DEFAULT_SENDER_OPTIONS } from '#lib/domain/sending/ports.ts';
import { graphClient } from '#lib/graph/graph-client.ts';
import { FANOUT_SCHEDULES, RECONCILE_SCHEDULE } from '#lib/schedules.ts';
import { createAdminHandler, createReconcileScheduleHandler } from '../functions/admin.ts';
import { createFanoutHandler } from '../functions/fanout.ts';
import { createSenderHandler } from '../functions/sender.ts';
import { createWebhookHandler } from '../functions/webhook.ts';
import { lambdaContext } from './api-gateway.ts';
import { localContentSources } from './content-sources.ts';
import { emulatorSigner } from './emulator-signer.ts';
import { assertPortFree, pointSdkAt, startDynamoDbLocal, startFauxqs } from './emulators.ts';
import { type MetaSimulator, startMetaSimulator } from './meta-simulator/index.ts';
import { startQueuePoller } from './queue-poller.ts';
import { createSendQueues } from './queues.ts';
import { createRuntimeClock, type RuntimeClock } from './runtime-clock.ts';
import type { RuntimeOptions } from './runtime-options.ts';
import { MAX_BODY_BYTES, mirrorPagesInto, type Route, serve } from './runtime-server.ts';
import { startScheduler } from './scheduler.ts';
import { readSendPipeline, type SendPipelineState } from './send-pipeline.ts';
import { virtualTimeJobQueue } from './virtual-time-queue.ts';

export type { RuntimeOptions } from './runtime-options.ts';

/** The running system: its URL, its clock, the simulator when used, and a way to stop it all. */
export interface Runtime {
  url: string;
  clock: RuntimeClock;
  simulator?: MetaSimulator;
  tableName: string;
  queueUrls: { send: string; deadLetter: string };
  /** What the schedules did so far, for progress lines. */
  counters: { fanoutRuns: number; queued: number };
  /**
   * Where the send pipeline stands; once `idle`, nothing more is sent before the clock reaches
   * the put-backs' time (also `GET /_local/pipeline`).
   */
  pipeline(): Promise<SendPipelineState>;
  /**
   * Moves the clock forward to `to` (or leaves it where it is, when it already reads later) and
   * resolves once the schedules it passed have run, as `POST /_local/clock` does.
   */
  moveClock(to: number): Promise<void>;
  /** Processes besides this one that belong to the runtime (DynamoDB Local's JVM). */
  childPids: number[];
  stop(): Promise<void>;
}

const WEBHOOK_TIMEOUT_MS = 5_000;
/** The deployed defaults (what the CDK stack leaves unset), read from the functions' schemas. */
const FANOUT_LOOKBACK_HOURS = fanoutConfigSchema.shape.LOOKBACK_HOURS.parse(undefined);
const ADMIN_LOOKBACK_HOURS = adminConfigSchema.shape.LOOKBACK_HOURS.parse(undefined);
const FANOUT_TIMEOUT_MS = 5 * 60_000;
const ADMIN_TIMEOUT_MS = 29_000;

/** Starts the emulators, the table and queues, the handlers, the schedules and the HTTP server. */
export async function startRuntime(options: RuntimeOptions): Promise<Runtime> {
  const { log } = options;
  await assertPortFree(options.port, 'the Recurrent HTTP server');
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) {
      try {
        await stop();
      } catch (error: unknown) {
        log.warn('a part did not stop cleanly', { error: String(error) });
      }
    }
  };
  const childPids: number[] = [];
  try {
    if (!options.useRunningEmulators) {
      const [dynamo, queues] = await Promise.all([
        startDynamoDbLocal(options.dataDir ? { dataDir: join(options.dataDir, 'dynamodb') } : {}),
        startFauxqs(options.dataDir ? { dataDir: join(options.dataDir, 'sqs') } : {}),
      ]);
      stops.push(dynamo.stop, queues.stop);
      if (dynamo.pid !== undefined) childPids.push(dynamo.pid);
      // The SDK finds the emulators the standard way, exactly as tests and tools do.
      pointSdkAt({ dynamo: dynamo.endpoint, sqs: queues.endpoint });
    }
    const runtime = await wire(options, stops);
    return { ...runtime, childPids, stop: stopAll };
  } catch (error: unknown) {
    await stopAll();
    throw error;
  }
}

async function wire(
  options: RuntimeOptions,
  stops: (() => Promise<void>)[],
): Promise<Omit<Runtime, 'stop' | 'childPids'>> {
  const storage = await startStorage(options);
  const clock = createRuntimeClock({
    ...(options.clockStart !== undefined && { start: options.clockStart }),
    speed: options.clockSpeed,
  });
  const simulator = await startSimulator(options, clock, stops);
  const graphUrl = options.graphUrl ?? simulator?.url ?? '';
  const handlers = wireHandlers(options, storage, { clock, graphUrl });
  const schedules = startSchedules(options, storage, clock, handlers);
  stops.push(schedules.scheduler.stop, schedules.poller.stop);
  const pipeline = () =>
    readSendPipeline(storage.sqs, storage.queueUrls.send, {
      batchesRunning: () => schedules.poller.running,
      fanoutsRunning: () => handlers.fanoutsRunning(),
      waitingOnClock: () => handlers.jobQueue.waitingOnClock(),
      earliestWake: () => handlers.jobQueue.earliestWake(),
    });
  const afterClockMove = async () => {
    await schedules.scheduler.catchUp();
    await handlers.jobQueue.wake();
  };
  const url = await listen(options, storage, stops, {
    clock,
    simulator,
    handlers,
    afterClockMove,
    pipeline,
  });
  return {
    url,
    clock,
    ...(simulator && { simulator }),
    tableName: storage.tableName,
    queueUrls: storage.queueUrls,
    counters: schedules.counters,
    pipeline,
    async moveClock(to) {
      clock.advanceTo(Math.max(to, clock.now()));
      await afterClockMove();
    },
  };
}

type Storage = Awaited<ReturnType<typeof startStorage>>;
type Handlers = ReturnType<typeof wireHandlers>;

/** The SDK clients, the table and the send queues, as the CDK stack makes them. */
async function startStorage(options: RuntimeOptions) {
  const tableName = options.tableName ?? 'recurrent';
  // The runtime only ever talks to the emulators: its DynamoDB requests skip SigV4. SQS keeps
  // it: unsigned, the poison-job reliability test saw three times the dead-lettered jobs.
  const db = createDynamoClient({ signer: emulatorSigner });
  const sqs = createSqsClient();
  const raw = new DynamoDBClient({ signer: emulatorSigner });
  await createTable(raw, tableName);
  const queues = await createSendQueues(sqs, `${tableName}-send`);
  const queueUrls = { send: queues.send, deadLetter: queues.deadLetter };
  return { tableName, db, sqs, raw, queues, queueUrls };
}

/** The built-in Meta simulator, unless a Graph URL is configured. */
async function startSimulator(
  options: RuntimeOptions,
  clock: RuntimeClock,
  stops: (() => Promise<void>)[],
): Promise<MetaSimulator | undefined> {
  const { log } = options;
  let simulator: MetaSimulator | undefined;
  if (!options.graphUrl) {
    // The simulator counts its rate window on the runtime clock too, so the sender's pacing
    // (on the same clock) and Meta's limit agree at any CLOCK_SPEED.
    simulator = await startMetaSimulator({
      clock,
      realNow: clock.now,
      // Arrival is stamped on a thread of its own, not on this process's busy event loop.
      arrivalFront: { realNowSpeed: clock.speed },
      appSecret: options.appSecret,
      log,
      ...(options.simulatorMarketingStatus && {
        marketingStatus: options.simulatorMarketingStatus,
      }),
    });
    stops.push(() => simulator?.stop() ?? Promise.resolve());
  }
  return simulator;
}

/** The four Lambda handlers, made by their own factories over the same ports as on AWS. */
function wireHandlers(
  options: RuntimeOptions,
  { db, sqs, tableName, queueUrls }: Storage,
  { clock, graphUrl }: { clock: RuntimeClock; graphUrl: string },
) {
  const { log } = options;
  const webhook = createWebhookHandler(
    {
      appSecret: options.appSecret,
      verifyToken: options.verifyToken,
      maxBodyBytes: MAX_BODY_BYTES,
    },
    webhookDeps(db, tableName, { clock, log }),
    options.logger,
  );
  const contentSources = localContentSources(db, tableName);
  // Fan-out invocations running or handed over: the send pipeline is not idle while one is.
  let fanoutsRunning = 0;
  const invokeFanout = async (input: unknown) => {
    fanoutsRunning++;
    try {
      return await fanout(input, lambdaContext('fanout', FANOUT_TIMEOUT_MS));
    } finally {
      fanoutsRunning--;
    }
  };
  // A continuation is a fresh asynchronous invocation of the fan-out, as Lambda's Event invoke is.
  const continuations = {
    handOver: async (input: unknown) => {
      fanoutsRunning++;
      setImmediate(() => {
        invokeFanout(input)
          .catch((error: unknown) =>
            log.error('fan-out continuation failed', { error: String(error) }),
          )
          .finally(() => fanoutsRunning--);
      });
    },
  };
  const fanout = createFanoutHandler(
    fanoutDeps(
      { dynamo: db, sqs },
      // SQS counts real seconds while this clock may jump: jobs are not held back here; the
      // sender's put-back on the runtime clock does the same job.
      {
        table: tableName,
        queueUrl: queueUrls.send,
        lookbackHours: FANOUT_LOOKBACK_HOURS,
        delayScale: 0,
      },
      { continuations, log, contentSources },
    ),
    options.logger,
  );
  const graph = graphClient({
    baseUrl: graphUrl,
    version: options.graphVersion,
    ...(options.graphTimeoutMs !== undefined && { timeoutMs: options.graphTimeoutMs }),
  });
  const adminPorts = adminDeps(
    { dynamo: db, sqs },
    {
      table: tableName,
      queueUrl: queueUrls.send,
      lookbackHours: ADMIN_LOOKBACK_HOURS,
      deadLetterQueues: [{ name: 'send', url: queueUrls.deadLetter }],
    },
    { graph, clock, log, continuations, contentSources },
  );
  const admin = createAdminHandler({ adminToken: options.adminToken }, adminPorts, options.logger);
  const reconcile = createReconcileScheduleHandler(adminPorts, options.logger);
  const senderParts = senderDeps(
    { dynamo: db, sqs },
    { table: tableName, queueUrl: queueUrls.send, burst: DEFAULT_SENDER_OPTIONS.burst },
    {
      graph,
      clock,
      log,
      // The sender waits in the clock's time: at CLOCK_SPEED 60 a 1 s wait takes 1/60 s.
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms / clock.speed)),
    },
  );
  const jobQueue = virtualTimeJobQueue(senderParts.queue, sqs, queueUrls.send, clock);
  const sender = createSenderHandler(
    DEFAULT_SENDER_OPTIONS,
    { ...senderParts, queue: jobQueue },
    options.logger,
  );
  return {
    webhook,
    invokeFanout,
    fanoutsRunning: () => fanoutsRunning,
    admin,
    reconcile,
    jobQueue,
    sender,
  };
}

/** The fan-out and reconcile schedules on the runtime clock, and the poller that feeds the sender. */
function startSchedules(
  options: RuntimeOptions,
  { sqs, queues, queueUrls }: Storage,
  clock: RuntimeClock,
  { invokeFanout, jobQueue, sender, reconcile }: Handlers,
) {
  const { log } = options;
  const counters = { fanoutRuns: 0, queued: 0 };
  const scheduler = startScheduler({
    clock,
    schedules: [...FANOUT_SCHEDULES, RECONCILE_SCHEDULE],
    fire: async (schedule, at) => {
      const scheduledTime = new Date(at).toISOString();
      if (!('cadence' in schedule)) {
        await reconcile({ reconcile: 'daily', scheduledTime }, lambdaContext('admin', 29_000));
        return;
      }
      const result = await invokeFanout({ cadence: schedule.cadence, scheduledTime });
      counters.fanoutRuns++;
      counters.queued += result.queued;
      await jobQueue.wake();
    },
    log,
    ...(options.scheduleCatchUp && { catchUp: options.scheduleCatchUp }),
  });
  const poller = startQueuePoller({
    sqs,
    queueUrl: queueUrls.send,
    queueArn: queues.sendArn,
    handler: sender,
    batchSize: SEND_QUEUE.batchSize,
    maxConcurrency: SEND_QUEUE.maxConcurrency,
    functionTimeoutMs: SEND_QUEUE.senderTimeoutSeconds * 1000,
    log,
  });
  return { counters, scheduler, poller };
}

/** The HTTP server on `options.port`; returns its URL once it listens. */
async function listen(
  options: RuntimeOptions,
  { raw, sqs, queueUrls }: Storage,
  stops: (() => Promise<void>)[],
  parts: {
    clock: RuntimeClock;
    simulator: MetaSimulator | undefined;
    handlers: Handlers;
    afterClockMove: () => Promise<void>;
    pipeline: () => Promise<SendPipelineState>;
  },
): Promise<string> {
  const { log } = options;
  const { clock, simulator, handlers } = parts;
  const { webhook, admin } = handlers;
  const health = async () => {
    await raw.send(new ListTablesCommand({ Limit: 1 }));
    await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrls.send, AttributeNames: ['QueueArn'] }),
    );
  };
  const routes: Route[] = [
    { prefix: '/webhook', handler: webhook, timeoutMs: WEBHOOK_TIMEOUT_MS, name: 'webhook' },
    {
      prefix: '/admin',
      handler: simulator ? mirrorPagesInto(simulator, admin) : admin,
      timeoutMs: ADMIN_TIMEOUT_MS,
      name: 'admin',
    },
  ];
  const server = await serve(options.port, routes, {
    clock,
    health,
    ...(simulator && { simulator }),
    afterClockMove: parts.afterClockMove,
    pipeline: parts.pipeline,
    log,
  });
  stops.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  const { port } = server.address() as AddressInfo;
  if (simulator) simulator.setWebhookUrl(`http://127.0.0.1:${port}/webhook`);
  return `http://localhost:${port}`;
}

/** A random development secret: printed, because nobody configured it. */
export function madeUpSecret(): string {
  return randomBytes(16).toString('hex');
}
