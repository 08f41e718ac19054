import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../local/emulators.ts';
import { type MetaSimulator, startMetaSimulator } from '../../local/meta-simulator/index.ts';
import { createRuntimeClock, type RuntimeClock } from '../../local/runtime-clock.ts';
import {
  type ChildRuntime,
  crash,
  persistedQueueAfterDowntime,
  readPipeline,
  startChildRuntime,
  stopChildRuntime,
  waitHealthy,
  watchQueue,
} from './support/child-runtime.ts';
import { aSecret, eventually, leakedSecrets } from './support/harness.ts';

/**
 * Issue 9, scenario 4: `npm start` killed with SIGKILL (its DynamoDB Local JVM too, as a crash
 * of the machine would) during a fan-out and again during sending, and started again on the
 * same DATA_DIR. Meta is a simulator in this process, so sends are counted outside the process
 * that crashes. The run must complete with every due subscriber sent exactly once.
 */
const START = Date.parse('2026-11-23T07:50:00Z');
/** The DAILY run that sends 09:00 local in every zone below (all between UTC+1 and UTC+6:30). */
const RUN = Date.parse('2026-11-23T08:00:00Z');
const SEND_QUEUE = 'recurrent-send';
const DEAD_LETTER_QUEUE = 'recurrent-send-dlq';
/**
 * The run reads the due-index partitions in id order: the Paris Page's jobs are queued first,
 * then the world Page's, then a Page whose every subscriber stopped (its three topics keep 72
 * zone partitions of 16 shards each that the run still reads). So the first send reaches Meta
 * while the run still has most of its reading to do.
 */
const PARIS_PAGE = '4001';
const WORLD_PAGE = '4002';
const STOPPED_PAGE = '4003';
const STOPPED_TOPICS = ['morning', 'noon', 'evening'];
const WORLD_ZONES = [
  'Europe/Berlin',
  'Europe/Madrid',
  'Africa/Lagos',
  'Europe/Athens',
  'Africa/Cairo',
  'Europe/Kyiv',
  'Africa/Johannesburg',
  'Europe/Istanbul',
  'Europe/Moscow',
  'Africa/Nairobi',
  'Asia/Riyadh',
  'Asia/Tehran',
  'Asia/Dubai',
  'Asia/Baku',
  'Asia/Tbilisi',
  'Asia/Kabul',
  'Asia/Karachi',
  'Asia/Tashkent',
  'Asia/Kolkata',
  'Asia/Colombo',
  'Asia/Kathmandu',
  'Asia/Dhaka',
  'Asia/Bishkek',
  'Asia/Yangon',
];
const PEOPLE_PER_PAGE = 120;

const appSecret = aSecret('crash-app-secret');
const adminToken = aSecret('crash-admin-token');
const pageTokens: Record<string, string> = {
  [PARIS_PAGE]: aSecret('paris-page-token'),
  [WORLD_PAGE]: aSecret('world-page-token'),
  [STOPPED_PAGE]: aSecret('stopped-page-token'),
};

let dataDir: string;
let port: number;
let url: string;
let clock: RuntimeClock;
let simulator: MetaSimulator;
let runtime: ChildRuntime | undefined;
const outputs: string[] = [];
const psids: { pageId: string; psid: string }[] = [];

function start(): ChildRuntime {
  const child = startChildRuntime({
    PORT: String(port),
    DATA_DIR: dataDir,
    CLOCK_START: new Date(clock.now()).toISOString(),
    META_GRAPH_URL: simulator.url,
    META_APP_SECRET: appSecret,
    META_VERIFY_TOKEN: 'crash-verify',
    ADMIN_TOKEN: adminToken,
  });
  runtime = child;
  return child;
}

async function restart(): Promise<void> {
  await waitHealthy(url, start());
}

async function kill(): Promise<void> {
  if (!runtime) return;
  await crash(runtime, dataDir);
  outputs.push(runtime.output.text);
  runtime = undefined;
}

async function admin(method: string, path: string, body: unknown) {
  const answer = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await answer.text();
  if (answer.status !== 200) throw new Error(`${method} ${path}: ${answer.status} ${text}`);
  return text;
}

/** Moves both clocks (the runtime's and Meta's) to `to`; resolves when the runtime answers. */
function moveClocks(to: number): Promise<Response> {
  clock.advanceTo(to);
  return fetch(`${url}/_local/clock`, {
    method: 'POST',
    body: JSON.stringify({ now: new Date(to).toISOString() }),
  });
}

function sendsPerToken(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const sent of simulator.sent()) {
    if (sent.token === undefined) continue;
    counts.set(sent.token, (counts.get(sent.token) ?? 0) + 1);
  }
  return counts;
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'recurrent-crash-'));
  port = await freePort();
  url = `http://localhost:${port}`;
  clock = createRuntimeClock({ start: START });
  simulator = await startMetaSimulator({
    clock,
    appSecret,
    webhookUrl: `http://127.0.0.1:${port}/webhook`,
  });
  await restart();
  for (const [pageId, zones] of [
    [PARIS_PAGE, ['Europe/Paris']],
    [WORLD_PAGE, WORLD_ZONES],
  ] as const) {
    const accessToken = pageTokens[pageId] ?? '';
    simulator.addPage({ id: pageId, accessToken, timezone: 'Europe/Paris' });
    await admin('PUT', `/admin/pages/${pageId}`, {
      accessToken,
      timezone: 'Europe/Paris',
      ratePerSecond: 30,
    });
    await admin('PUT', '/admin/topics/daily', {
      pageId,
      title: 'Daily deals',
      cadence: 'DAILY',
      sendTime: '09:00',
      message: { text: 'Today only' },
    });
    for (let i = 0; i < PEOPLE_PER_PAGE; i++) {
      const { psid } = simulator.addPerson({ pageId, timezone: zones[i % zones.length] ?? 'UTC' });
      // Opted in the day before: every one of them is due in the 08:00 run.
      simulator.seedToken({
        pageId,
        psid,
        topicId: 'daily',
        title: 'Daily deals',
        createdAt: START - 86_400_000,
        announce: true,
      });
      psids.push({ pageId, psid });
    }
  }
  const accessToken = pageTokens[STOPPED_PAGE] ?? '';
  simulator.addPage({ id: STOPPED_PAGE, accessToken, timezone: 'Europe/Paris' });
  await admin('PUT', `/admin/pages/${STOPPED_PAGE}`, { accessToken, timezone: 'Europe/Paris' });
  for (const topicId of STOPPED_TOPICS) {
    await admin('PUT', `/admin/topics/${topicId}`, {
      pageId: STOPPED_PAGE,
      title: topicId,
      cadence: 'DAILY',
      sendTime: '09:00',
      message: { text: 'Never sent' },
    });
    for (const zone of WORLD_ZONES) {
      const { psid } = simulator.addPerson({ pageId: STOPPED_PAGE, timezone: zone });
      simulator.seedToken({
        pageId: STOPPED_PAGE,
        psid,
        topicId,
        title: topicId,
        createdAt: START - 86_400_000,
        announce: true,
      });
      simulator.personStops(STOPPED_PAGE, psid, topicId);
    }
  }
  await simulator.settle({ timeoutMs: 60_000 });
}, 120_000);

afterAll(async () => {
  if (runtime) await stopChildRuntime(runtime, dataDir);
  await simulator?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('a crash of npm start', () => {
  it('during a fan-out and again during sending loses no send and sends none twice', async () => {
    const due = PEOPLE_PER_PAGE * 2;

    // Crash 1: the 08:00 run fires and is killed once its first jobs are on the queue, while
    // it still has most partitions to read.
    let runAnswered = false;
    const queue = watchQueue(dataDir, SEND_QUEUE);
    moveClocks(RUN + 5 * 60_000).then(
      () => {
        runAnswered = true;
      },
      () => {},
    );
    const firstJobs = await eventually(() => queue.count() > 0, 30_000, 1);
    const runUnanswered = !runAnswered;
    await kill();
    queue.close();
    expect(firstJobs).toBe(true);
    const crashedDuringRun = runUnanswered && !outputs.join('').includes('fan-out completed');
    const afterCrash1 = persistedQueueAfterDowntime(dataDir, SEND_QUEUE);
    const sentAtCrash1 = simulator.sent().length;

    // The next run catches the unfinished one up.
    await restart();
    const catchUp = await moveClocks(RUN + 15 * 60_000 + 30_000);
    expect(catchUp.status).toBe(200);

    // Crash 2: in the middle of sending.
    const sendingFrom = simulator.sent().length;
    expect(await eventually(() => simulator.sent().length >= sendingFrom + 60, 60_000, 1)).toBe(
      true,
    );
    await kill();
    const afterCrash2 = persistedQueueAfterDowntime(dataDir, SEND_QUEUE);
    const sentAtCrash2 = simulator.sent().length;

    await restart();
    await eventually(() => sendsPerToken().size >= due, 90_000, 200);
    // Anything sent twice would be sent before the queue drains: once it has, the counts are
    // final (no job visible, delayed or in flight, no batch or fan-out running).
    const drained = await eventually(
      async () => (await readPipeline(url))?.drained === true,
      90_000,
      200,
    );
    const counts = sendsPerToken();
    if (runtime) await stopChildRuntime(runtime, dataDir);
    if (runtime) outputs.push(runtime.output.text);
    runtime = undefined;
    const leftOver = persistedQueueAfterDowntime(dataDir, SEND_QUEUE);
    const deadLetters = persistedQueueAfterDowntime(dataDir, DEAD_LETTER_QUEUE);

    console.info(
      `crash: crash 1 ${crashedDuringRun ? 'during' : 'after'} the fan-out with ${sentAtCrash1} sent, ${afterCrash1.bodies.length} jobs on the queue (${afterCrash1.inFlight} in flight); crash 2 with ${sentAtCrash2} sent, ${afterCrash2.bodies.length} jobs on the queue (${afterCrash2.inFlight} in flight); ${counts.size} of ${due} tokens sent`,
    );
    expect(drained).toBe(true);
    expect(crashedDuringRun).toBe(true);
    expect(afterCrash1.bodies.length).toBeLessThan(due);
    expect(sentAtCrash2).toBeLessThan(due);
    const tokens = psids.map(
      ({ pageId, psid }) => simulator.tokenOf(pageId, psid, 'daily')?.token ?? `${psid}?`,
    );
    expect(tokens.filter((token) => (counts.get(token) ?? 0) === 0)).toEqual([]);
    expect(tokens.filter((token) => (counts.get(token) ?? 0) > 1)).toEqual([]);
    expect(leftOver.bodies).toEqual([]);
    expect(deadLetters.bodies).toEqual([]);
    expect(
      leakedSecrets(outputs, {
        appSecret,
        adminToken,
        ...pageTokens,
        ...Object.fromEntries(tokens.map((token, i) => [`token ${i}`, token])),
      }),
    ).toEqual([]);
  }, 240_000);
});
