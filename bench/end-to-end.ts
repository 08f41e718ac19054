import { writeFile } from 'node:fs/promises';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createDynamoClient } from '#lib/aws/clients.ts';
import { SEND_QUEUE } from '#lib/aws/queue-definition.ts';
import { perSecond, renderSenderChart, type SenderSeries } from './chart.ts';
import {
  compareCosts,
  costRows,
  FANOUT_RUNS_PER_DAY,
  fixedCostRows,
  fixedMonthlyCost,
  naiveUsage,
  PRICES,
  type Usage,
} from './cost-model.ts';
import { naiveStatusUsage, sendPathUsage, statusUsage } from './cost-split.ts';
import { totalRequests } from './instrument.ts';
import {
  createPipeline,
  type FunctionCounts,
  MEMORY_MB,
  type Pipeline,
  type PipelineCounts,
  startEmulators,
} from './pipeline.ts';
import { printTable, resultFile, sleep, summarise, writeResult } from './support.ts';

/**
 * End to end: SUBSCRIBERS people due at once on PAGES Pages, from the fan-out run's start to
 * Meta (the simulator) accepting the last message, with the sender at the deployed
 * concurrency. The same runs are counted request by request for the cost model.
 */
const SUBSCRIBERS = Number(process.env.E2E_SUBSCRIBERS ?? 10_000);
const PAGES = Number(process.env.E2E_PAGES ?? 10);
/** Each Page's rate: Recurrent's default, the rate META_PLATFORM.md calls safe. */
const RATE = Number(process.env.E2E_RATE ?? 20);
/** `--quick`: one run. */
const RUNS = process.argv.includes('--quick') ? 1 : Number(process.env.E2E_RUNS ?? 3);
/** Concurrent sender instances; the deployed event source mapping's maximum by default. */
const SENDERS = Number(process.env.E2E_SENDERS ?? SEND_QUEUE.maxConcurrency);
const GRAPH_LATENCY_MS = 50;
/** The naive sender's DynamoDB time per message: three calls of about 10 ms on AWS. */
const NAIVE_DYNAMO_MS = 30;
const DEADLINE_MS = 20 * 60_000;
/** What `cdk/monitoring.ts` deploys: its stack test asserts the 15 alarms; 7 metric names. */
const STACK_ALARMS = 15;
const STACK_CUSTOM_METRICS = 7;
/** An assumption, not measured: cold starts a month of the function reading the secret. */
const COLD_STARTS_PER_MONTH = 3_000;

interface RunResult {
  /** Fan-out start to Meta accepting the last message. */
  seconds: number;
  fanoutSeconds: number;
  /** Fan-out start to the queue being empty (every message deleted). */
  drainedSeconds: number;
  sent: number;
  distinctTokens: number;
  rateLimitErrors: number;
  /** Status events Meta's webhooks delivered about these sends. */
  statusEvents: number;
  counts: PipelineCounts;
  series: SenderSeries;
  scanReadUnits: number;
  tableItems: number;
  /** A scheduled fan-out run 15 minutes later, with nothing due: what every idle run costs. */
  idleFanout: { durationMs: number; logBytes: number };
}

const emulators = await startEmulators();
try {
  const results: RunResult[] = [];
  for (let run = 0; run < RUNS; run++) {
    const result = await oneRun(run);
    results.push(result);
    console.log(
      `run ${run + 1}: ${result.sent} sent in ${result.seconds.toFixed(1)} s ` +
        `(fan-out ${result.fanoutSeconds.toFixed(1)} s, queue empty at ${result.drainedSeconds.toFixed(1)} s)`,
    );
  }
  const time = summarise(results.map((result) => result.seconds));
  const ideal = SUBSCRIBERS / PAGES / RATE;
  printTable([
    {
      subscribers: SUBSCRIBERS,
      pages: `${PAGES} x ${RATE}/s`,
      'sender concurrency': SENDERS,
      'median s': time.median.toFixed(1),
      'min s': time.min.toFixed(1),
      'max s': time.max.toFixed(1),
      'at the rate s': ideal.toFixed(1),
      'sends/s': Math.round(SUBSCRIBERS / time.median),
      'rate-limit errors': Math.max(...results.map((result) => result.rateLimitErrors)),
      'sent twice': Math.max(...results.map((result) => result.sent - result.distinctTokens)),
    },
  ]);

  // The cost model prices the median run's counts.
  const median =
    [...results].sort((a, b) => a.seconds - b.seconds)[Math.floor(results.length / 2)] ??
    results[0];
  if (!median) throw new Error('no run');
  const ours = usageOf(median.counts, median.sent);
  const naive = naiveFrom(median, ours);
  const costs = compareCosts(ours, naive);
  console.log(`\nUS$ per million sends (us-east-1 list prices checked ${PRICES.checkedOn}):`);
  printTable(costRows(costs));
  const sendPath = sendPathUsage(median.counts, median.sent);
  const sendPathCosts = compareCosts(
    sendPath,
    naiveFrom(median, sendPath, { withWebhooks: false }),
  );
  console.log('\nUS$ per million sends, the send path alone (fan-out, queue, sender, logs):');
  printTable(costRows(sendPathCosts));
  const { webhook } = median.counts.functions;
  const status = statusUsage(median.counts, median.statusEvents);
  const statusCosts = compareCosts(
    status,
    naiveStatusUsage(median.statusEvents, {
      durationMsPerRequest: webhook.durationMs / Math.max(1, webhook.invocations),
      logBytesPerRequest: median.counts.logBytesBy.webhook / Math.max(1, webhook.invocations),
    }),
  );
  console.log(
    `\nUS$ per million status events (${median.statusEvents} events in ${median.counts.apiRequests} deliveries):`,
  );
  printTable(costRows(statusCosts));
  const fixed = fixedMonthlyCost({
    idleFanoutDurationMs: median.idleFanout.durationMs,
    idleFanoutLogBytes: median.idleFanout.logBytes,
    coldStartsPerMonth: COLD_STARTS_PER_MONTH,
    alarms: STACK_ALARMS,
    customMetrics: STACK_CUSTOM_METRICS,
  });
  console.log('\nUS$ a month whatever is sent:');
  printTable(fixedCostRows(fixed));
  const perThousand = perThousandSends(median.counts, median.sent);
  console.log('\nper 1,000 sends (median run):');
  printTable(perThousand);

  const chart = resultFile('end-to-end', 'svg');
  await writeFile(
    chart,
    renderSenderChart([median.series], {
      title: `End to end: ${SUBSCRIBERS.toLocaleString('en-US')} due at once`,
    }),
  );
  const file = await writeResult('end-to-end', {
    subscribers: SUBSCRIBERS,
    pages: PAGES,
    ratePerPage: RATE,
    senderConcurrency: SENDERS,
    graphLatencyMs: GRAPH_LATENCY_MS,
    secondsAtTheRate: ideal,
    seconds: time,
    runs: results.map(({ series, ...rest }) => rest),
    perThousandSends: perThousand,
    usage: { ours, naive },
    costPerMillionSends: costs,
    costPerMillionSendsOfTheSendPath: sendPathCosts,
    costPerMillionStatusEvents: statusCosts,
    statusEvents: median.statusEvents,
    fixedMonthly: fixed,
    prices: PRICES,
  });
  console.log(`written to ${file} and ${chart.pathname}`);
} finally {
  await emulators.stop();
}

async function oneRun(run: number): Promise<RunResult> {
  const pipeline = await createPipeline({ name: `e2e${run}`, graphLatencyMs: GRAPH_LATENCY_MS });
  try {
    const now = Date.now();
    // A DAILY topic whose slot is the current minute in UTC: every subscriber is due now.
    const sendTime = new Date(now).toISOString().slice(11, 16);
    const perPage = Math.ceil(SUBSCRIBERS / PAGES);
    for (let page = 0; page < PAGES; page++) {
      const pageId = `page${page}`;
      await pipeline.addPage({ pageId, ratePerSecond: RATE });
      const topic = await pipeline.addTopic(pageId, 'deals', sendTime);
      const count = Math.min(perPage, SUBSCRIBERS - page * perPage);
      const psids = Array.from({ length: count }, (_, i) => `${pageId}-p${i}`);
      await pipeline.addSubscribers(topic, psids, now - 30 * 86_400_000);
    }
    const table = await scanTable(pipeline.table);
    pipeline.resetCounts();

    const started = performance.now();
    const startedAt = Date.now();
    pipeline.startSenders(SENDERS);
    const sampling = sampleDepth(pipeline, startedAt);
    const scheduledTime = Date.now();
    await pipeline.fanout('DAILY', scheduledTime);
    const fanoutSeconds = (performance.now() - started) / 1000;
    while (pipeline.simulator.sent().length < SUBSCRIBERS) {
      if (performance.now() - started > DEADLINE_MS) throw new Error('the run did not finish');
      await sleep(50);
    }
    const lastAccepted = (performance.now() - started) / 1000;
    while ((await pipeline.queueDepth()) > 0) await sleep(100);
    const drainedSeconds = (performance.now() - started) / 1000;
    // Status webhooks about these sends are part of what the sends cost.
    await pipeline.simulator.settle({ timeoutMs: 60_000 });
    const depth = await sampling.stop();
    const sent = pipeline.simulator.sent();
    const counts = structuredClone(pipeline.counts);
    pipeline.resetCounts();
    await pipeline.fanout('DAILY', scheduledTime + 15 * 60_000);
    const idleFanout = {
      durationMs: pipeline.counts.functions.fanout.durationMs,
      logBytes: pipeline.counts.logBytes,
    };
    const sentPerSecond = perSecond(
      sent.map((message) => message.at),
      startedAt,
    );
    return {
      seconds: lastAccepted,
      fanoutSeconds,
      drainedSeconds,
      sent: sent.length,
      distinctTokens: new Set(sent.map((message) => message.token)).size,
      rateLimitErrors: pipeline.simulator.rateLimitErrors(),
      statusEvents: pipeline.simulator
        .deliveries()
        .filter((delivery) => delivery.state === 'delivered')
        .reduce((total, delivery) => total + delivery.events, 0),
      counts,
      series: {
        label: `${PAGES} Pages at ${RATE}/s: fan-out, then the sender`,
        configuredRate: PAGES * RATE,
        points: depth.map((queueDepth, second) => ({
          second,
          sent: sentPerSecond[second] ?? 0,
          queueDepth,
        })),
      },
      scanReadUnits: table.readUnits,
      tableItems: table.items,
      idleFanout,
    };
  } finally {
    await pipeline.stop();
  }
}

/** Queue depth once a second until stopped. */
function sampleDepth(pipeline: Pipeline, startedAt: number) {
  const depths: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const second = Math.floor((Date.now() - startedAt) / 1000);
      depths[second] = await pipeline.queueDepth();
      await sleep(1000 - ((Date.now() - startedAt) % 1000));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return Array.from(depths, (depth) => depth ?? 0);
    },
  };
}

/** One eventually consistent Scan of the whole table: what the naive fan-out reads per run. */
async function scanTable(table: string): Promise<{ items: number; readUnits: number }> {
  const db = createDynamoClient();
  let items = 0;
  let readUnits = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new ScanCommand({
        TableName: table,
        ReturnConsumedCapacity: 'TOTAL',
        Select: 'COUNT',
        ...(startKey && { ExclusiveStartKey: startKey }),
      }),
    );
    items += page.Count ?? 0;
    readUnits += page.ConsumedCapacity?.CapacityUnits ?? 0;
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  db.destroy();
  return { items, readUnits };
}

function usageOf(counts: PipelineCounts, sends: number): Usage {
  const all = Object.values(counts.functions);
  const sumOf = (pick: (fn: FunctionCounts) => number) =>
    all.reduce((total, fn) => total + pick(fn), 0);
  return {
    sends,
    sqsRequests: sumOf((fn) => totalRequests(fn.sqs)),
    dynamoReadUnits: sumOf((fn) => fn.dynamo.readUnits),
    dynamoWriteUnits: sumOf((fn) => fn.dynamo.writeUnits),
    lambda: (['webhook', 'fanout', 'sender'] as const).map((name) => ({
      name,
      invocations: counts.functions[name].invocations,
      durationMs: counts.functions[name].durationMs,
      memoryMb: MEMORY_MB[name],
    })),
    // The one scheduled run that did the work; the idle runs are in the fixed monthly cost.
    schedulerInvocations: 1,
    apiRequests: counts.apiRequests,
    logBytes: counts.logBytes,
  };
}

/** The naive design for the same people, priced with this run's measured figures. */
function naiveFrom(
  run: RunResult,
  ours: Usage,
  { withWebhooks }: { withWebhooks: boolean } = { withWebhooks: true },
): Usage {
  const { webhook, fanout } = run.counts.functions;
  const perRequest = (n: number) =>
    withWebhooks && webhook.invocations > 0 ? n / webhook.invocations : 0;
  return naiveUsage({
    sends: run.sent,
    tableItems: run.tableItems,
    // Measured: the bytes behind one real Scan of the table (4 KB per half unit).
    avgItemBytes: (run.scanReadUnits * 2 * 4096) / Math.max(1, run.tableItems),
    fanoutRunsPerDay: FANOUT_RUNS_PER_DAY,
    // Assumed, not measured: a one-message invocation waits for Meta's answer and three
    // DynamoDB calls of about 10 ms (its token, its claim, its Page and topic).
    senderDurationMs: GRAPH_LATENCY_MS + NAIVE_DYNAMO_MS,
    senderMemoryMb: MEMORY_MB.sender,
    fanoutDurationMsPerRun: fanout.durationMs / Math.max(1, fanout.invocations),
    fanoutMemoryMb: MEMORY_MB.fanout,
    logBytesPerSend: ours.logBytes / ours.sends,
    apiRequestsPerSend: ours.apiRequests / ours.sends,
    webhook: {
      durationMsPerRequest: perRequest(webhook.durationMs),
      memoryMb: MEMORY_MB.webhook,
      readUnitsPerRequest: perRequest(webhook.dynamo.readUnits),
      writeUnitsPerRequest: perRequest(webhook.dynamo.writeUnits),
    },
  });
}

function perThousandSends(counts: PipelineCounts, sends: number) {
  const per = (n: number) => ((n / sends) * 1000).toFixed(1);
  return (Object.entries(counts.functions) as [string, FunctionCounts][]).map(([name, fn]) => ({
    part: name === 'esm' ? 'event source mapping' : name,
    invocations: per(fn.invocations),
    'handler s': per(fn.durationMs / 1000),
    'DynamoDB requests': per(totalRequests(fn.dynamo)),
    'read units': per(fn.dynamo.readUnits),
    'write units': per(fn.dynamo.writeUnits),
    'of which index': per(fn.dynamo.indexWriteUnits),
    'SQS requests': per(totalRequests(fn.sqs)),
  }));
}
