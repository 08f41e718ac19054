import { writeFile } from 'node:fs/promises';
import { SEND_QUEUE } from '#lib/aws/queue-definition.ts';
import { perSecond } from './chart.ts';
import { totalRequests } from './instrument.ts';
import { cpuMeter, pageRates } from './many-pages-measure.ts';
import { type PageRateSeries, renderPageRateChart } from './page-rate-chart.ts';
import { createPipeline, startEmulators } from './pipeline.ts';
import { printTable, resultFile, sleep, summarise, writeResult } from './support.ts';

/**
 * Many Pages at once: PAGES Pages at RATE/s each, SECONDS of sends due on each, queued by the
 * real fan-out (Pages interleaved) and sent by the real sender handler at the deployed
 * concurrency, fed by the event source stand-in, against the Meta simulator (50 ms answers,
 * each Page's rate over a sliding second, the 40/s ceiling). Status webhooks are off: on AWS
 * they run in their own Lambdas, here they would share the sender's two cores. `--quick`: one
 * run of each scenario.
 */
const quick = process.argv.includes('--quick');
const ALL_SCENARIOS = [
  { label: '10 Pages at 20/s', pages: 10, rate: 20 },
  { label: '50 Pages at 20/s', pages: 50, rate: 20 },
];
/** `MANY_PAGES=10` runs only the scenarios of that many Pages. */
const SCENARIOS = ALL_SCENARIOS.filter(
  (scenario) => !process.env.MANY_PAGES || String(scenario.pages) === process.env.MANY_PAGES,
);
const SECONDS = Number(process.env.MANY_SECONDS ?? 10);
const RUNS = quick ? 1 : Number(process.env.MANY_RUNS ?? 3);
const SENDERS = Number(process.env.MANY_SENDERS ?? SEND_QUEUE.maxConcurrency);
const LATENCY_MS = 50;
const DEADLINE_MS = 10 * 60_000;

interface RunResult {
  /** Sends together over the span of all sends, over the Pages' summed rates. */
  ratio: number;
  achieved: number;
  /** Fan-out start to Meta accepting the last send. */
  seconds: number;
  minPageRatio: number;
  medianPageRatio: number;
  /** The busiest sliding second of any Page, over its rate. */
  busiestSecond: number;
  rateLimitErrors: number;
  sentTwice: number;
  cpuBusy: number;
  loadAverage: number;
  perSend: {
    senderMs: number;
    dynamoRequests: number;
    writeUnits: number;
    readUnits: number;
    /** DynamoDB and SQS requests per send, by command. */
    byCommand: Record<string, number>;
  };
  series: PageRateSeries;
}

const emulators = await startEmulators();
try {
  const rows: Record<string, string | number>[] = [];
  const results: unknown[] = [];
  const charts: PageRateSeries[] = [];
  for (const scenario of SCENARIOS) {
    const runs: RunResult[] = [];
    for (let run = 0; run < RUNS; run++) {
      const result = await oneRun(scenario, run);
      console.log(
        `${scenario.label}, run ${run + 1}: ${JSON.stringify({ ...result, series: undefined })}`,
      );
      runs.push(result);
    }
    const ratio = summarise(runs.map((run) => run.ratio));
    const median = [...runs].sort((a, b) => a.ratio - b.ratio)[Math.floor(runs.length / 2)];
    if (median) charts.push(median.series);
    const row = {
      scenario: scenario.label,
      senders: SENDERS,
      'together/s median': (ratio.median * scenario.pages * scenario.rate).toFixed(1),
      'ratio min / median / max': `${ratio.min.toFixed(3)} / ${ratio.median.toFixed(3)} / ${ratio.max.toFixed(3)}`,
      'slowest Page ratio': Math.min(...runs.map((run) => run.minPageRatio)).toFixed(3),
      'busiest second / rate': `${Math.max(...runs.map((run) => run.busiestSecond))} / ${scenario.rate}`,
      'rate-limit errors': runs.reduce((sum, run) => sum + run.rateLimitErrors, 0),
      'sent twice': runs.reduce((sum, run) => sum + run.sentTwice, 0),
      'CPU busy': `${Math.round(100 * summarise(runs.map((run) => run.cpuBusy)).median)} %`,
      'sender ms/send': summarise(runs.map((run) => run.perSend.senderMs)).median.toFixed(1),
    };
    rows.push(row);
    results.push({ ...row, runs: runs.map(({ series, ...rest }) => rest) });
  }
  printTable(rows);
  const chart = resultFile('many-pages', 'svg');
  await writeFile(
    chart,
    renderPageRateChart(charts, "Many Pages at once: each Page's sends per second"),
  );
  const file = await writeResult('many-pages', {
    secondsPerPage: SECONDS,
    runs: RUNS,
    senderConcurrency: SENDERS,
    batchSize: SEND_QUEUE.batchSize,
    graphLatencyMs: LATENCY_MS,
    rows: results,
  });
  console.log(`written to ${file} and ${chart.pathname}`);
} finally {
  await emulators.stop();
}

async function oneRun(scenario: (typeof SCENARIOS)[number], run: number): Promise<RunResult> {
  const pipeline = await createPipeline({
    name: `many${scenario.pages}x${run}`,
    graphLatencyMs: LATENCY_MS,
    statusWebhooks: false,
  });
  try {
    const now = Date.now();
    const sendTime = new Date(now).toISOString().slice(11, 16);
    const perPage = scenario.rate * SECONDS;
    for (let page = 0; page < scenario.pages; page++) {
      const pageId = `page${page}`;
      await pipeline.addPage({ pageId, ratePerSecond: scenario.rate });
      const topic = await pipeline.addTopic(pageId, 'deals', sendTime);
      const psids = Array.from({ length: perPage }, (_, i) => `${pageId}-p${i}`);
      await pipeline.addSubscribers(topic, psids, now - 30 * 86_400_000);
    }
    const total = scenario.pages * perPage;
    pipeline.resetCounts();
    const cpu = await cpuMeter();
    const startedAt = Date.now();
    pipeline.startSenders(SENDERS);
    await pipeline.fanout('DAILY', startedAt);
    while (pipeline.simulator.sent().length < total) {
      if (Date.now() - startedAt > DEADLINE_MS) throw new Error(`${scenario.label} did not finish`);
      await sleep(100);
    }
    const seconds = (Date.now() - startedAt) / 1000;
    const { busy, load } = await cpu.stop();
    const sent = pipeline.simulator.sent();
    // As Meta's per-second limit counts them: when each call arrived.
    const rates = pageRates(sent.map(({ pageId, arrivedAt }) => ({ pageId, at: arrivedAt })));
    const ratios = rates.pages.map((page) => page.achieved / scenario.rate).sort((a, b) => a - b);
    const { sender } = pipeline.counts.functions;
    const per = (n: number) => n / sent.length;
    return {
      ratio: rates.total / (scenario.pages * scenario.rate),
      achieved: rates.total,
      seconds,
      minPageRatio: ratios[0] ?? 0,
      medianPageRatio: ratios[Math.floor(ratios.length / 2)] ?? 0,
      busiestSecond: Math.max(...rates.pages.map((page) => page.busiestSecond)),
      rateLimitErrors: pipeline.simulator.rateLimitErrors(),
      sentTwice: sent.length - new Set(sent.map((message) => message.token)).size,
      cpuBusy: busy,
      loadAverage: load,
      perSend: {
        senderMs: per(sender.durationMs),
        dynamoRequests: per(totalRequests(sender.dynamo)),
        writeUnits: per(sender.dynamo.writeUnits),
        readUnits: per(sender.dynamo.readUnits),
        byCommand: Object.fromEntries(
          Object.entries({ ...sender.dynamo.requests, ...sender.sqs.requests }).map(
            ([command, n]) => [command, Math.round(per(n) * 1000) / 1000],
          ),
        ),
      },
      series: {
        label: scenario.label,
        ratePerPage: scenario.rate,
        pages: rates.pages.map(({ pageId }) => ({
          pageId,
          perSecond: perSecond(
            sent.filter((message) => message.pageId === pageId).map((message) => message.at),
            startedAt,
          ),
        })),
      },
    };
  } finally {
    await pipeline.stop();
  }
}
