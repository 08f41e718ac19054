import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { adminDeps } from '#lib/aws/admin-deps.ts';
import { createDynamoClient, createSqsClient } from '#lib/aws/clients.ts';
import { createTable } from '#lib/aws/create-table.ts';
import { fanoutDeps } from '#lib/aws/fanout-deps.ts';
import { SEND_QUEUE } from '#lib/aws/queue-definition.ts';
import { senderDeps } from '#lib/aws/sender-deps.ts';
import { webhookDeps } from '#lib/aws/webhook-deps.ts';
import { InvalidInputError } from '#lib/domain/errors.ts';
import { DEFAULT_SENDER_OPTIONS } from '#lib/domain/sending/send-message.ts';
import { graphClient } from '#lib/graph/graph-client.ts';
import { json } from '#lib/http/api-gateway.ts';
import type { Log } from '#lib/log.ts';
import { FANOUT_SCHEDULES } from '#lib/schedules.ts';
import { createAdminHandler } from '../functions/admin.ts';
import { createFanoutHandler } from '../functions/fanout.ts';
import { createSenderHandler } from '../functions/sender.ts';
import { createWebhookHandler } from '../functions/webhook.ts';
import {
  type ApiHandler,
  lambdaContext,
  readBody,
  toApiEvent,
  writeApiResult,
} from './api-gateway.ts';
import { assertPortFree, pointSdkAt, startDynamoDbLocal, startFauxqs } from './emulators.ts';
import {
  type FaultConfig,
  type MetaSimulator,
  startMetaSimulator,
} from './meta-simulator/index.ts';
import { startQueuePoller } from './queue-poller.ts';
import { createSendQueues } from './queues.ts';
import { ClockGoesBackError, createRuntimeClock, type RuntimeClock } from './runtime-clock.ts';
import { startScheduler } from './scheduler.ts';
import { controlSimulator } from './simulator-control.ts';
import { virtualTimeJobQueue } from './virtual-time-queue.ts';

/** Everything the one-machine runtime needs; `local/start.ts` reads it from the environment. */
export interface RuntimeOptions {
  port: number;
  appSecret: string;
  verifyToken: string;
  adminToken: string;
  /** Meta's Graph API; when absent the built-in Meta simulator is started and used. */
  graphUrl?: string;
  graphVersion: string;
  /** DynamoDB Local and queue files; in memory when absent. */
  dataDir?: string;
  clockStart?: number;
  clockSpeed: number;
  log: Log;
  /**
   * The Powertools logger behind `log`, when it has one: handler lines then carry the request
   * id of the local invocation (of the last one to start, when several run at once).
   */
  logger?: Logger;
  /** Names of the local table and queues. */
  tableName?: string;
  /** Faults the built-in simulator injects from the start. */
  simulatorFaults?: FaultConfig;
  /**
   * Use the DynamoDB and SQS endpoints already in `AWS_ENDPOINT_URL_*` instead of starting
   * emulators (tests share one pair; each runtime then needs its own `tableName`).
   */
  useRunningEmulators?: boolean;
  /** Graph answer timeout of the sender and the admin API; the client's default when absent. */
  graphTimeoutMs?: number;
}

/** The running system: its URL, its clock, the simulator when used, and a way to stop it all. */
export interface Runtime {
  url: string;
  clock: RuntimeClock;
  simulator?: MetaSimulator;
  tableName: string;
  queueUrls: { send: string; deadLetter: string };
  /** What the schedules did so far, for progress lines. */
  counters: { fanoutRuns: number; queued: number };
  /** Processes besides this one that belong to the runtime (DynamoDB Local's JVM). */
  childPids: number[];
  stop(): Promise<void>;
}

const MAX_BODY_BYTES = 4 * 1024 * 1024;
const WEBHOOK_TIMEOUT_MS = 5_000;
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
  const { log } = options;
  const tableName = options.tableName ?? 'recurrent';
  const db = createDynamoClient();
  const sqs = createSqsClient();
  const raw = new DynamoDBClient({});
  await createTable(raw, tableName);
  const queues = await createSendQueues(sqs, `${tableName}-send`);
  const queueUrls = { send: queues.send, deadLetter: queues.deadLetter };
  const clock = createRuntimeClock({
    ...(options.clockStart !== undefined && { start: options.clockStart }),
    speed: options.clockSpeed,
  });

  let simulator: MetaSimulator | undefined;
  if (!options.graphUrl) {
    // The simulator counts its rate window on the runtime clock too, so the sender's pacing
    // (on the same clock) and Meta's limit agree at any CLOCK_SPEED.
    simulator = await startMetaSimulator({
      clock,
      realNow: clock.now,
      appSecret: options.appSecret,
      log,
    });
    stops.push(() => simulator?.stop() ?? Promise.resolve());
  }
  const graphUrl = options.graphUrl ?? simulator?.url ?? '';

  const webhook = createWebhookHandler(
    {
      appSecret: options.appSecret,
      verifyToken: options.verifyToken,
      maxBodyBytes: MAX_BODY_BYTES,
    },
    webhookDeps(db, tableName, { clock, log }),
    options.logger,
  );
  // A continuation is a fresh asynchronous invocation of the fan-out, as Lambda's Event invoke is.
  const continuations = {
    handOver: async (input: unknown) => {
      setImmediate(() => {
        fanout(input, lambdaContext('fanout', FANOUT_TIMEOUT_MS)).catch((error: unknown) =>
          log.error('fan-out continuation failed', { error: String(error) }),
        );
      });
    },
  };
  const fanout = createFanoutHandler(
    fanoutDeps(
      { dynamo: db, sqs },
      // SQS counts real seconds while this clock may jump: jobs are not held back here; the
      // sender's put-back on the runtime clock does the same job.
      { table: tableName, queueUrl: queueUrls.send, lookbackHours: 6, delayScale: 0 },
      { continuations, log },
    ),
    options.logger,
  );
  const graph = graphClient({
    baseUrl: graphUrl,
    version: options.graphVersion,
    ...(options.graphTimeoutMs !== undefined && { timeoutMs: options.graphTimeoutMs }),
  });
  const admin = createAdminHandler(
    { adminToken: options.adminToken },
    adminDeps(
      { dynamo: db, sqs },
      { table: tableName, queueUrl: queueUrls.send, lookbackHours: 6 },
      { graph, clock, log, continuations },
    ),
    options.logger,
  );
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

  const counters = { fanoutRuns: 0, queued: 0 };
  const scheduler = startScheduler({
    clock,
    schedules: FANOUT_SCHEDULES,
    fire: async (schedule, at) => {
      const result = await fanout(
        { cadence: schedule.cadence, scheduledTime: new Date(at).toISOString() },
        lambdaContext('fanout', FANOUT_TIMEOUT_MS),
      );
      counters.fanoutRuns++;
      counters.queued += result.queued;
      await jobQueue.wake();
    },
    log,
  });
  stops.push(scheduler.stop);
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
  stops.push(poller.stop);

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
    afterClockMove: async () => {
      await scheduler.catchUp();
      await jobQueue.wake();
    },
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
  return {
    url: `http://localhost:${port}`,
    clock,
    ...(simulator && { simulator }),
    tableName,
    queueUrls,
    counters,
  };
}

interface Route {
  prefix: string;
  handler: ApiHandler;
  timeoutMs: number;
  name: string;
}

async function serve(
  port: number,
  routes: readonly Route[],
  parts: {
    clock: RuntimeClock;
    health: () => Promise<void>;
    simulator?: MetaSimulator;
    afterClockMove: () => Promise<void>;
    log: Log;
  },
): Promise<Server> {
  const server = createServer(async (request, response) => {
    try {
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      if (path === '/health') {
        await parts.health();
        writeApiResult(response, json(200, { status: 'ok' }));
        return;
      }
      if (path === '/_local/clock') {
        writeApiResult(response, await moveClock(request, parts));
        return;
      }
      if (path.startsWith('/_local/simulator/')) {
        writeApiResult(response, await controlSimulatorRoute(request, path, parts.simulator));
        return;
      }
      const route = routes.find(
        (candidate) => path === candidate.prefix || path.startsWith(`${candidate.prefix}/`),
      );
      if (!route) {
        writeApiResult(
          response,
          json(404, { error: { code: 'not_found', message: `no route for ${path}` } }),
        );
        return;
      }
      const body = await readBody(request, MAX_BODY_BYTES + 1);
      if (body === undefined) {
        writeApiResult(
          response,
          json(413, {
            error: { code: 'body_too_large', message: `body over ${MAX_BODY_BYTES} bytes` },
          }),
        );
        return;
      }
      const event = toApiEvent(request, body, parts.clock.now());
      const context: Context = lambdaContext(route.name, route.timeoutMs);
      writeApiResult(response, await route.handler(event, context));
    } catch (error: unknown) {
      parts.log.error('local request failed', {
        error: error instanceof Error ? error.message : String(error),
      });
      if (!response.headersSent) {
        writeApiResult(
          response,
          json(503, { error: { code: 'unavailable', message: 'a part of the runtime is not up' } }),
        );
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return server;
}

async function moveClock(
  request: IncomingMessage,
  parts: { clock: RuntimeClock; afterClockMove: () => Promise<void> },
) {
  if (request.method !== 'POST') {
    return json(405, {
      error: { code: 'method_not_allowed', message: 'POST {"now": "<ISO instant>"}' },
    });
  }
  const body = (await readBody(request, 10_000)) ?? Buffer.alloc(0);
  let target: number;
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    const now =
      typeof parsed === 'object' && parsed !== null && 'now' in parsed ? parsed.now : undefined;
    target = typeof now === 'number' ? now : Date.parse(String(now));
  } catch {
    target = Number.NaN;
  }
  if (!Number.isFinite(target)) {
    return json(400, {
      error: { code: 'invalid_input', message: 'now: give an ISO instant or epoch milliseconds' },
    });
  }
  try {
    parts.clock.advanceTo(target);
  } catch (error: unknown) {
    if (error instanceof ClockGoesBackError) {
      return json(409, { error: { code: 'clock_goes_back', message: error.message } });
    }
    throw error;
  }
  await parts.afterClockMove();
  return json(200, { now: new Date(parts.clock.now()).toISOString() });
}

async function controlSimulatorRoute(
  request: IncomingMessage,
  path: string,
  simulator: MetaSimulator | undefined,
) {
  if (!simulator) {
    return json(404, {
      error: {
        code: 'no_simulator',
        message: 'META_GRAPH_URL is set: no built-in simulator to control',
      },
    });
  }
  if (request.method !== 'POST') {
    return json(405, { error: { code: 'method_not_allowed', message: 'POST a JSON body' } });
  }
  const body = (await readBody(request, 100_000)) ?? Buffer.alloc(0);
  try {
    const input: unknown = JSON.parse(body.toString('utf8') || '{}');
    return json(200, controlSimulator(simulator, path.slice('/_local/simulator/'.length), input));
  } catch (error: unknown) {
    if (error instanceof InvalidInputError || error instanceof SyntaxError) {
      return json(400, { error: { code: 'invalid_input', message: error.message } });
    }
    throw error;
  }
}

/**
 * Tells the simulator about every Page an operator registers, so Meta (simulated) knows its
 * access token, zone, ad account and campaign exactly as the real one would.
 */
function mirrorPagesInto(simulator: MetaSimulator, admin: ApiHandler): ApiHandler {
  return async (event, context) => {
    const result = await admin(event, context);
    const match = /^\/admin\/pages\/([^/]+)$/.exec(event.rawPath);
    if (
      event.requestContext.http.method !== 'PUT' ||
      !match?.[1] ||
      (result.statusCode ?? 500) >= 300
    ) {
      return result;
    }
    const body = JSON.parse(event.body ?? '{}') as {
      accessToken?: string;
      timezone?: string;
      adAccountId?: string;
      campaignId?: string;
    };
    const pageId = decodeURIComponent(match[1]);
    if (body.accessToken) {
      const adAccountId = body.adAccountId?.replace(/^act_/, '');
      simulator.addPage({
        id: pageId,
        accessToken: body.accessToken,
        ...(body.timezone && { timezone: body.timezone }),
        // The sender uses the Page's token as the system-user token of the new API.
        ...(adAccountId && { adAccountId, systemUserToken: body.accessToken }),
      });
      if (adAccountId && body.campaignId) {
        simulator.addCampaign({ adAccountId, pageId, id: body.campaignId });
      }
    }
    return result;
  };
}

/** A random development secret: printed, because nobody configured it. */
export function madeUpSecret(): string {
  return randomBytes(16).toString('hex');
}
