import { SEND_QUEUE } from '#lib/aws/queue-definition.ts';
import { fixedClock } from '#lib/clock.ts';
import { type FanoutInput, runFanout } from '#lib/domain/fanout/run-fanout.ts';
import { DEFAULT_SENDER_OPTIONS, type SenderDeps } from '#lib/domain/sending/ports.ts';
import { sendBatch } from '#lib/domain/sending/send-batch.ts';
import type { SendOutcome } from '#lib/domain/sending/send-outcome.ts';
import { CADENCES, type Cadence } from '#lib/domain/topic.ts';
import { silentLog } from '#lib/log.ts';
import { createMetaModel } from '../local/meta-simulator/model.ts';
import { personKey } from '../local/meta-simulator/model-state.ts';
import {
  createOrganicTraffic,
  type OrganicTrafficOptions,
} from '../local/meta-simulator/organic-traffic.ts';
import {
  memoryCatalog,
  memoryConversationCounter,
  memoryRateLimiter,
  memorySendStore,
  memorySubscriptionStore,
  memoryTable,
} from '../test/support/memory-ports.ts';
import { allowedSends } from './rules-allowed.ts';
import { createBridge } from './rules-bridge.ts';
import {
  memoryDueIndex,
  memoryFanoutRuns,
  modelGraph,
  virtualSendQueue,
  virtualSleep,
} from './rules-ports.ts';
import {
  AD_ACCOUNT,
  CAMPAIGN,
  DAY_MS,
  HOUR_MS,
  MM_PAGE,
  PAGES,
  population,
  seeded,
  TOPICS,
} from './rules-world.ts';

/**
 * A simulated year (or less) of the `rules` benchmark: the real fan-out and sender over the
 * in-memory ports, Meta's side played by the simulator's rule model on the same virtual clock.
 */

export interface YearOptions {
  people: number;
  days: number;
  seed: number;
  /** Changes to the run's organic traffic (the forecast part: the Page's share, others' messages). */
  organic?: Partial<Omit<OrganicTrafficOptions, 'seed'>>;
  /** Count conversations (the webhook's and the sender's) and forecast the frequency caps. */
  forecast?: boolean;
}

/** What the run measured; `refusedByRule` is the simulator's own count. */
export interface YearResult {
  people: number;
  days: number;
  sent: { send_api: number; marketing_messages: number; total: number };
  allowed: { send_api: number; marketing_messages: number; total: number };
  ratio: number;
  refusedByRule: ReturnType<ReturnType<typeof createMetaModel>['ruleRefusals']>;
  outcomes: Record<string, number>;
  deadLetters: number;
  fanoutRuns: number;
  runSeconds: number;
}

/**
 * The fan-out fires hourly here, not every 15 minutes as deployed: the benchmark's send times
 * fall on the hour in every zone but Asia/Kolkata (UTC+5:30), whose slots the next run finds
 * 30 minutes late, well inside the 6 h staleness; three quarters of the runs would be empty.
 */
const FANOUT_EVERY_MS = 60 * 60_000;
/** Organic traffic of the run: 1 to 30 conversations a day, 2 % silent (caps exempt). */
const ORGANIC = { minPerDay: 1, maxPerDay: 30, silentShare: 0.02 };

/** Runs the simulated period and measures it. */
export async function runYear(options: YearOptions): Promise<YearResult> {
  const began = performance.now();
  const world = setUp(options);
  const { outcomes, runs } = await live(world);
  const allowed = allowedSends({
    truth: world.bridge.truth(),
    topics: TOPICS,
    marketingPages: new Set([MM_PAGE]),
    traffic: createOrganicTraffic(world.organic),
    personKey,
    end: world.end,
    outages: [world.metaOutage],
  });
  const allowedTotal = allowed.send_api + allowed.marketing_messages;
  const sent = world.sent();
  return {
    people: options.people,
    days: options.days,
    sent,
    allowed: { ...allowed, total: allowedTotal },
    ratio: allowedTotal === 0 ? 1 : Math.round((sent.total / allowedTotal) * 10_000) / 10_000,
    refusedByRule: world.model.ruleRefusals(),
    outcomes,
    deadLetters: world.queue.deadLetters(),
    fanoutRuns: runs,
    runSeconds: Math.round((performance.now() - began) / 100) / 10,
  };
}

type World = ReturnType<typeof setUp>;

/** Meta's model, Recurrent's table and ports, the people and the outages of the run. */
function setUp(options: YearOptions) {
  const start = Date.parse('2026-01-04T00:00:00Z');
  const end = start + options.days * DAY_MS;
  const clock = fixedClock(start);
  const organic = { seed: options.seed, ...ORGANIC, ...options.organic };
  const table = memoryTable({ pages: PAGES, topics: TOPICS });
  const conversations = options.forecast ? memoryConversationCounter(table) : undefined;
  const index = memoryDueIndex(table);
  // One 6-hour Meta outage, two 1-hour webhook outages, at fixed points of the period.
  const at = (fraction: number, hour: number) =>
    start + Math.floor(options.days * fraction) * DAY_MS + hour * HOUR_MS;
  const metaOutage = { from: at(0.3, 12), to: at(0.3, 18) };
  const webhookOutages = [
    { from: at(0.1, 13), to: at(0.1, 14) },
    { from: at(0.6, 8), to: at(0.6, 9) },
  ];
  const bridge = createBridge({
    table,
    place: index.place,
    clock,
    outages: webhookOutages,
    ...(conversations && { conversations }),
  });
  const model = createMetaModel({
    clock,
    emit: (event) => bridge.receive(event),
    random: seeded(options.seed + 1),
    organicTraffic: organic,
    // The ceiling counts the virtual clock: the sender paces on it too.
    realNow: clock.now,
    keepSentLog: false,
    marketingStatus: { readProbability: 0 },
  });
  for (const page of PAGES) {
    model.addPage({
      id: page.pageId,
      accessToken: page.accessToken,
      timezone: page.timezone,
      ...(page.pageId === MM_PAGE && {
        adAccountId: AD_ACCOUNT,
        systemUserToken: page.accessToken,
      }),
    });
  }
  model.addCampaign({ adAccountId: AD_ACCOUNT, pageId: MM_PAGE, id: CAMPAIGN });
  const actor = bridge.actor(model, population(options.people, start, options.days, options.seed));
  const queue = virtualSendQueue(clock.now, SEND_QUEUE.maxReceiveCount);
  const sent = { send_api: 0, marketing_messages: 0 };
  const graph = modelGraph(
    model,
    () => clock.now() >= metaOutage.from && clock.now() < metaOutage.to,
  );
  const defers = new Map<string, number>();
  const deps: SenderDeps = {
    subscriptions: memorySubscriptionStore(table),
    catalog: memoryCatalog(table),
    sends: memorySendStore(table),
    rate: memoryRateLimiter({ burst: DEFAULT_SENDER_OPTIONS.burst }).limiter,
    queue: {
      defer: async (entries) => {
        for (const entry of entries) defers.set(entry.handle, entry.delayMs);
      },
    },
    graph: graph.graph,
    stats: { add: async () => {} },
    clock,
    // One sender at a time: its waits move the virtual clock, as concurrent timers would.
    sleep: virtualSleep(clock),
    random: seeded(options.seed + 2),
    log: silentLog,
    ...(conversations && { conversations }),
  };
  return {
    start,
    end,
    clock,
    organic,
    model,
    index,
    bridge,
    actor,
    queue,
    fanoutRuns: memoryFanoutRuns(),
    metaOutage,
    defers,
    deps,
    sentByRoute: sent,
    sent: () => ({ ...sent, total: graph.accepted() }),
  };
}

/** The period, event by event: people act, webhooks land, fan-outs run every 15 minutes, batches go. */
async function live(world: World) {
  const { clock, actor, bridge, queue, end } = world;
  const outcomes: Record<string, number> = {};
  let nextRun = world.start;
  let runs = 0;
  let conversedAt = Number.NEGATIVE_INFINITY;
  while (clock.now() < end) {
    actor.actUntil(clock.now());
    // People's messages to their Page (when the traffic has a Page share), every quarter hour.
    if ((world.organic.pageShare ?? 0) > 0 && clock.now() - conversedAt >= 15 * 60_000) {
      world.model.peopleConverse();
      conversedAt = clock.now();
    }
    bridge.deliverDue();
    while (nextRun <= clock.now()) {
      for (const cadence of CADENCES) {
        await fanout(world, cadence, nextRun);
        runs++;
      }
      nextRun += FANOUT_EVERY_MS;
    }
    const batch = queue.receive(SEND_QUEUE.batchSize);
    if (batch.length === 0) {
      const next = Math.min(
        nextRun,
        actor.nextAt(),
        bridge.nextDeliveryAt(),
        queue.nextVisibleAt() ?? end,
        end,
      );
      clock.set(Math.max(next, clock.now()));
      continue;
    }
    await sendOne(world, batch, outcomes);
  }
  return { outcomes, runs };
}

/** One sender invocation on a received batch, and what SQS does with each message after it. */
async function sendOne(
  world: World,
  batch: ReturnType<World['queue']['receive']>,
  outcomes: Record<string, number>,
) {
  const count = (key: string) => {
    outcomes[key] = (outcomes[key] ?? 0) + 1;
  };
  const records = batch.map((message) => ({
    id: message.id,
    body: message.body,
    receiveCount: message.receiveCount,
    handle: message.id,
  }));
  const results = await sendBatch(records, world.deps);
  results.forEach((result, i) => {
    const message = batch[i];
    if (!message) return;
    if (result.status === 'rejected') {
      count(`failed:${result.reason instanceof Error ? result.reason.name : 'unknown'}`);
      world.queue.putBack(message, SEND_QUEUE.visibilityTimeoutSeconds * 1000);
      return;
    }
    count(outcomeKey(result.value));
    if (result.value.kind === 'sent') {
      const route = result.value.job.pageId === MM_PAGE ? 'marketing_messages' : 'send_api';
      world.sentByRoute[route]++;
    }
    if (result.value.kind === 'deferred') {
      world.queue.putBack(message, world.defers.get(message.id) ?? result.value.delayMs);
      world.defers.delete(message.id);
    }
  });
}

/** One scheduled fan-out run, with its continuations. */
async function fanout(world: World, cadence: Cadence, scheduledTime: number) {
  const { index, queue, fanoutRuns } = world;
  let input: FanoutInput | undefined = { cadence, scheduledTime };
  while (input) {
    await runFanout(input, {
      catalog: index.catalog,
      dueIndex: index.dueIndex,
      queue: { enqueue: async (jobs) => queue.enqueue(jobs) },
      runs: fanoutRuns.runs,
      continuations: fanoutRuns.continuations,
      timeLeft: () => Number.POSITIVE_INFINITY,
      log: silentLog,
      lookbackMs: 6 * HOUR_MS,
      concurrency: 1,
      reserveMs: 0,
    });
    input = fanoutRuns.handedOver.shift();
  }
}

/** `sent`, `skipped:<reason>`, `deferred:<reason>`, `refused:<action>`. */
function outcomeKey(outcome: SendOutcome): string {
  if (outcome.kind === 'sent') return 'sent';
  if (outcome.kind === 'skipped') return `skipped:${outcome.reason}`;
  if (outcome.kind === 'deferred') return `deferred:${outcome.reason}`;
  return `refused:${outcome.action}`;
}
