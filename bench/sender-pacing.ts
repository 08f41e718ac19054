import { writeFile } from 'node:fs/promises';
import { SEND_QUEUE } from '#lib/aws/queue-definition.ts';
import { slotAtOrBefore } from '#lib/domain/slots.ts';
import { perSecond, renderSenderChart, type SenderSeries } from './chart.ts';
import { totalRequests } from './instrument.ts';
import { createPipeline, startEmulators } from './pipeline.ts';
import { printTable, resultFile, sleep, summarise, writeResult } from './support.ts';

/**
 * Achieved send rate against the Pages' configured `ratePerSecond`: the real sender handler
 * fed by the event source mapping stand-in from fauxqs, against the Meta simulator enforcing
 * each Page's rate over a sliding second (answering in 50 ms). Each scenario keeps the queue
 * full for about SENDER_SECONDS; SENDER_RUNS repetitions; a chart of the sends per second and
 * the queue depth is written next to the JSON.
 */
const SCENARIOS = [
  { label: '1 Page at 20/s', rates: [20] },
  { label: '1 Page at 40/s (Meta’s ceiling)', rates: [40] },
  { label: '3 Pages at 40/s each', rates: [40, 40, 40] },
];
const SECONDS = Number(process.env.SENDER_SECONDS ?? 10);
/** `--quick`: one run of each scenario. */
const RUNS = process.argv.includes('--quick') ? 1 : Number(process.env.SENDER_RUNS ?? 3);
const LATENCY_MS = 50;
/** Concurrent sender instances: the deployed event source's maximum, whatever the rate. */
const sendersFor = (_rate: number) => Number(process.env.SENDERS ?? SEND_QUEUE.maxConcurrency);

interface RunResult {
  /** Per Page: achieved rate over the span of its sends, and its busiest second. */
  pages: { rate: number; achieved: number; mostInASecond: number }[];
  total: number;
  rateLimitErrors: number;
  writeUnitsPer1000: number;
  readUnitsPer1000: number;
  sqsRequestsPer1000: number;
  series: SenderSeries;
}

const emulators = await startEmulators();
try {
  const rows: Record<string, string | number>[] = [];
  const results: unknown[] = [];
  const chartSeries: SenderSeries[] = [];
  for (const scenario of SCENARIOS) {
    const runs: RunResult[] = [];
    for (let run = 0; run < RUNS; run++) runs.push(await oneRun(scenario, run));
    const configured = scenario.rates.reduce((sum, rate) => sum + rate, 0);
    const ratios = runs.flatMap((run) => run.pages.map((page) => page.achieved / page.rate));
    const achieved = summarise(runs.map((run) => run.total));
    const ratio = summarise(ratios);
    const median = [...runs].sort((a, b) => a.total - b.total)[Math.floor(runs.length / 2)];
    if (median) chartSeries.push(median.series);
    const row = {
      scenario: scenario.label,
      senders: sendersFor(configured),
      'achieved/s median': achieved.median.toFixed(1),
      'min ratio': ratio.min.toFixed(3),
      'median ratio': ratio.median.toFixed(3),
      'max ratio': ratio.max.toFixed(3),
      'busiest second / rate': `${Math.max(...runs.flatMap((r) => r.pages.map((p) => p.mostInASecond)))} / ${Math.max(...scenario.rates)}`,
      'rate-limit errors': runs.reduce((sum, run) => sum + run.rateLimitErrors, 0),
      'WU/1k': Math.round(summarise(runs.map((run) => run.writeUnitsPer1000)).median),
      'RU/1k': Math.round(summarise(runs.map((run) => run.readUnitsPer1000)).median),
      'SQS/1k': Math.round(summarise(runs.map((run) => run.sqsRequestsPer1000)).median),
    };
    rows.push(row);
    results.push({ ...row, runs: runs.map(({ series, ...rest }) => rest) });
    console.log(`${scenario.label}: ${JSON.stringify(row)}`);
  }
  printTable(rows);
  const chart = resultFile('sender-pacing', 'svg');
  await writeFile(
    chart,
    renderSenderChart(chartSeries, { title: 'Sender: sends per second and queue depth' }),
  );
  const file = await writeResult('sender-pacing', {
    secondsPerScenario: SECONDS,
    runs: RUNS,
    graphLatencyMs: LATENCY_MS,
    metaLimit: "the Meta simulator: each Page's ratePerSecond calls in any sliding second",
    rows: results,
  });
  console.log(`written to ${file} and ${chart.pathname}`);
} finally {
  await emulators.stop();
}

async function oneRun(scenario: (typeof SCENARIOS)[number], run: number): Promise<RunResult> {
  // The sender alone: status webhooks would share its event loop here, not on AWS.
  const pipeline = await createPipeline({
    name: `pacing${run}`,
    graphLatencyMs: LATENCY_MS,
    statusWebhooks: false,
  });
  try {
    const now = Date.now();
    const sendTime = new Date(now).toISOString().slice(11, 16);
    const slot = slotAtOrBefore({ cadence: 'DAILY', sendTime }, 'UTC', now);
    const jobs = [];
    for (const [index, rate] of scenario.rates.entries()) {
      const pageId = `page${index}`;
      await pipeline.addPage({ pageId, ratePerSecond: rate });
      const topic = await pipeline.addTopic(pageId, 'deals', sendTime);
      const psids = Array.from({ length: rate * SECONDS }, (_, i) => `${pageId}-p${i}`);
      await pipeline.addSubscribers(topic, psids, now - 30 * 86_400_000);
      jobs.push(
        ...psids.map((psid) => ({
          pageId,
          psid,
          topicId: topic.topicId,
          slot,
          scheduledTime: now,
        })),
      );
    }
    // Interleaved, as a fan-out pooling partitions would queue them.
    jobs.sort((a, b) => seq(a.psid) - seq(b.psid));
    await pipeline.enqueue(jobs);
    pipeline.resetCounts();

    const startedAt = Date.now();
    const depths: number[] = [];
    pipeline.startSenders(sendersFor(scenario.rates.reduce((sum, rate) => sum + rate, 0)));
    while (pipeline.simulator.sent().length < jobs.length) {
      depths.push(await pipeline.queueDepth());
      await sleep(1000 - ((Date.now() - startedAt) % 1000));
      if (Date.now() - startedAt > 10 * 60_000) throw new Error('the run did not finish');
    }
    const sent = pipeline.simulator.sent();
    const counts = pipeline.counts.functions;
    const per1000 = (n: number) => (n / sent.length) * 1000;
    const sentPerSecond = perSecond(
      sent.map((message) => message.at),
      startedAt,
    );
    return {
      pages: scenario.rates.map((rate, index) => {
        const times = sent
          .filter((message) => message.pageId === `page${index}`)
          // As Meta's per-second limit counts them: when each call arrived.
          .map((message) => message.arrivedAt)
          .sort((a, b) => a - b);
        const span = ((times.at(-1) ?? 0) - (times[0] ?? 0)) / 1000;
        return {
          rate,
          achieved: span > 0 ? (times.length - 1) / span : 0,
          mostInASecond: mostInAnySecond(times),
        };
      }),
      total: (() => {
        const times = sent.map((message) => message.at).sort((a, b) => a - b);
        return (times.length - 1) / (((times.at(-1) ?? 0) - (times[0] ?? 0)) / 1000);
      })(),
      rateLimitErrors: pipeline.simulator.rateLimitErrors(),
      writeUnitsPer1000: per1000(counts.sender.dynamo.writeUnits),
      readUnitsPer1000: per1000(counts.sender.dynamo.readUnits),
      sqsRequestsPer1000: per1000(totalRequests(counts.sender.sqs) + totalRequests(counts.esm.sqs)),
      series: {
        label: scenario.label,
        configuredRate: scenario.rates.reduce((sum, rate) => sum + rate, 0),
        points: depths.map((queueDepth, second) => ({
          second,
          sent: sentPerSecond[second] ?? 0,
          queueDepth,
        })),
      },
    };
  } finally {
    await pipeline.stop();
  }
}

/** The most sends any sliding one-second window holds. */
function mostInAnySecond(sorted: readonly number[]): number {
  let most = 0;
  let from = 0;
  for (const [i, at] of sorted.entries()) {
    while ((sorted[from] ?? at) <= at - 1_000) from++;
    most = Math.max(most, i - from + 1);
  }
  return most;
}

/** The person's number within its Page (`page0-p12` is 12). */
function seq(psid: string): number {
  return Number(psid.slice(psid.lastIndexOf('p') + 1));
}
