import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoClient } from '#lib/aws/clients.ts';
import { dynamoCatalog } from '#lib/aws/dynamo-catalog.ts';
import { dynamoSubscriptionStore } from '#lib/aws/dynamo-subscription-store.ts';
import { freePort } from '../../local/emulators.ts';
import { type Runtime, startRuntime } from '../../local/runtime.ts';
import { captureLog } from '../support/capture-log.ts';
import { idle, moveClock, until } from '../support/local-runtime.ts';

/**
 * The whole system through `npm start`'s runtime: webhooks from the Meta simulator, the
 * schedules on the runtime clock, the send queue, the sender, and sends at the simulator.
 */
const PAGE_ID = '7001';
const PAGE_TOKEN = 'e2e-page-token';
const APP_SECRET = 'e2e-app-secret';
// Monday 23 November 2026, 06:00 in Paris: before the 09:00 send time.
const START = Date.parse('2026-11-23T05:00:00Z');
const day = (n: number, time = '08:16') => Date.parse(`2026-11-${23 + n}T${time}:00Z`);

let runtime: Runtime;
const log = captureLog();

function simulator() {
  if (!runtime.simulator) throw new Error('the runtime runs without its simulator');
  return runtime.simulator;
}

/**
 * Waits until the send pipeline is idle (no job on the queue but those put back until later on
 * the clock, no batch or fan-out running): what the simulator saw by then is all there is.
 */
async function sentOnceIdle() {
  await idle(runtime, 20_000);
  return simulator().sent();
}

async function subscription(psid: string, topicId: string) {
  const [item] = await dynamoSubscriptionStore(createDynamoClient(), runtime.tableName).getMany([
    { pageId: PAGE_ID, psid, topicId },
  ]);
  return item;
}

const sentTo = (psid: string) =>
  simulator()
    .sent()
    .filter((sent) => sent.psid === psid);

beforeAll(async () => {
  runtime = await startRuntime({
    port: await freePort(),
    appSecret: APP_SECRET,
    verifyToken: 'e2e-verify',
    adminToken: 'e2e-admin',
    graphVersion: 'v24.0',
    clockStart: START,
    clockSpeed: 1,
    log,
    tableName: `e2e-${Date.now()}`,
    useRunningEmulators: true,
  });
  const catalog = dynamoCatalog(createDynamoClient(), runtime.tableName);
  await catalog.putPage({
    pageId: PAGE_ID,
    accessToken: PAGE_TOKEN,
    deliveryRoute: 'send_api',
    ratePerSecond: 20,
    timezone: 'Europe/Paris',
    status: 'active',
  });
  await catalog.putTopic({
    pageId: PAGE_ID,
    topicId: 'daily',
    title: 'Daily deals',
    cadence: 'DAILY',
    sendTime: '09:00',
    message: { text: 'Today only' },
  });
  simulator().addPage({ id: PAGE_ID, accessToken: PAGE_TOKEN, timezone: 'Europe/Paris' });
  for (const psid of ['anna', 'ben', 'chloe', 'dan']) {
    simulator().addPerson({ pageId: PAGE_ID, psid, timezone: 'Europe/Paris' });
    simulator().seedToken({
      pageId: PAGE_ID,
      psid,
      topicId: 'daily',
      title: 'Daily deals',
      announce: true,
    });
  }
  await simulator().settle();
}, 60_000);

afterAll(async () => {
  await runtime?.stop();
});

describe('npm start runtime, end to end', () => {
  it('takes opt-ins from signed webhooks', async () => {
    expect(await subscription('anna', 'daily')).toMatchObject({
      status: 'active',
      timezone: 'Europe/Paris',
    });
  });

  it('honours a stop before the first run', async () => {
    simulator().personStops(PAGE_ID, 'dan', 'daily');
    await simulator().settle();

    expect(await subscription('dan', 'daily')).toMatchObject({ status: 'stopped' });
  });

  it('sends each due subscriber once at the local send time, and nothing to a stopped one', async () => {
    await moveClock(runtime, day(0, '07:50'));
    const early = simulator().sent().length;
    await moveClock(runtime, day(0));

    const sent = await sentOnceIdle();

    expect(early).toBe(0);
    expect(sent.map((entry) => entry.psid).sort()).toEqual(['anna', 'ben', 'chloe']);
    expect(sent.every((entry) => entry.route === 'send_api')).toBe(true);
  });

  it('sends nothing more in the same slot or the next day on the 48 h route', async () => {
    await moveClock(runtime, day(0, '08:46'));
    await moveClock(runtime, day(1));

    const sent = await sentOnceIdle();

    expect(sent).toHaveLength(3);
  });

  it('reschedules a token Meta says is still cooling down, and sends it in its next slot', async () => {
    simulator().injectError({
      token: simulator().tokenOf(PAGE_ID, 'ben', 'daily')?.token ?? '',
      code: 4,
      subcode: 2018354,
      times: 1,
    });

    await moveClock(runtime, day(2));
    await sentOnceIdle();
    const benAfterDayTwo = sentTo('ben').length;
    await moveClock(runtime, day(3));
    await sentOnceIdle();

    expect(sentTo('anna')).toHaveLength(2);
    expect(benAfterDayTwo).toBe(1);
    expect(sentTo('ben')).toHaveLength(2);
  });

  it('holds the Page after a rate-limit error without losing a send', async () => {
    simulator().rateLimitBurst({ pageId: PAGE_ID, calls: 1, regainMinutes: 2 });
    const settledOnDayFour = (psid: string) =>
      sentTo(psid).some((entry) => entry.at >= day(4, '08:00')) ||
      log.entries.some(
        (entry) =>
          entry.message === 'send job deferred' &&
          entry.psid === psid &&
          entry.slot === Date.parse('2026-11-27T08:00:00Z'),
      );

    await moveClock(runtime, day(4));
    // Each job sent or put back, and Meta's limit met, before the clock moves past the hold.
    await until(() => settledOnDayFour('anna') && settledOnDayFour('chloe'));
    await until(() => simulator().rateLimitErrors() > 0);
    await idle(runtime);
    await moveClock(runtime, day(4, '08:31'));
    const sent = await sentOnceIdle();

    expect(simulator().rateLimitErrors()).toBeGreaterThan(0);
    expect(
      sent
        .filter((entry) => entry.at >= day(4, '08:00'))
        .map((entry) => entry.psid)
        .sort(),
    ).toEqual(['anna', 'chloe']);
  });

  it('takes fault settings for the simulator by configuration, and refuses bad ones', async () => {
    const post = (path: string, body: unknown) =>
      fetch(`${runtime.url}/_local/simulator/${path}`, {
        method: 'POST',
        body: JSON.stringify(body),
      });

    const bad = await post('faults', { serverErrorRate: 2 });
    const good = await post('faults', { latencyMs: 5, errors: [{ token: 'tok-x', code: 100 }] });
    const cleared = await post('faults', { latencyMs: 0, errors: [] });

    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      error: { message: expect.stringMatching(/serverErrorRate/) },
    });
    expect(good.status).toBe(200);
    expect(cleared.status).toBe(200);
    expect(simulator().faults()).toMatchObject({ latencyMs: 0, errors: [] });
  });

  it("shows the simulator's status: its counters and the calls Meta refused by rule", async () => {
    const answer = await fetch(`${runtime.url}/_local/simulator/status`);

    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({
      calls: simulator().counters().calls,
      refusedByRule: simulator().counters().refusedByRule,
    });
  });

  it('never logs a token, the Page token or the app secret', () => {
    const everything = log.lines.join('\n');

    expect(log.lines.length).toBeGreaterThan(0);
    for (const psid of ['anna', 'ben', 'chloe']) {
      const token = simulator().tokenOf(PAGE_ID, psid, 'daily')?.token ?? 'missing';
      expect(everything).not.toContain(token);
    }
    expect(everything).not.toContain(PAGE_TOKEN);
    expect(everything).not.toContain(APP_SECRET);
  });
});
