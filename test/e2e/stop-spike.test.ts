import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPIC_PAUSED_LOG_MESSAGE } from '#lib/domain/stats.ts';
import { freePort } from '../../local/emulators.ts';
import { type Runtime, startRuntime } from '../../local/runtime.ts';
import { captureLog } from '../support/capture-log.ts';
import { adminClient, moveClock, settled } from '../support/local-runtime.ts';

/**
 * A topic people turn away from, through `npm start`'s runtime and the simulator: on the
 * Marketing Message route 5 % of the audience opted out (2300034) or blocked the Page (551),
 * the sender's counts pass the topic's 3 % and the topic pauses; the fan-out then queues
 * nothing for it until an operator resumes it.
 */
const ADMIN_TOKEN = 'stop-spike-e2e-admin';
const PAGE_ID = '7301';
// Monday 23 November 2026, 06:00 in Paris: before the 09:00 send time.
const START = Date.parse('2026-11-23T05:00:00Z');
const PEOPLE = Array.from({ length: 240 }, (_, index) => String(930_000 + index));
/** Every 20th person opted out or blocked the Page: 12 of 240, 5 %. */
const GONE = PEOPLE.filter((_, index) => index % 20 === 7);

const log = captureLog();

let runtime: Runtime;
const admin = adminClient(() => runtime, ADMIN_TOKEN);

describe('the stop-spike breaker end to end', () => {
  const sentOn = (day: string) =>
    (runtime.simulator?.sent() ?? []).filter(
      (sent) => sent.pageId === PAGE_ID && new Date(sent.at).toISOString().startsWith(day),
    ).length;
  const topic = async () => (await admin('GET', `/admin/topics?pageId=${PAGE_ID}`)).body.items[0];
  /** Runs the fan-out that holds a day's 09:00 Paris slot and waits until the sender is done. */
  const runDay = async (day: string) => {
    await moveClock(runtime, Date.parse(`${day}T08:16:00Z`));
    await settled(runtime);
  };

  beforeAll(async () => {
    runtime = await startRuntime({
      port: await freePort(),
      appSecret: 'stop-spike-e2e-secret',
      verifyToken: 'stop-spike-e2e-verify',
      adminToken: ADMIN_TOKEN,
      graphVersion: 'v24.0',
      clockStart: START,
      clockSpeed: 1,
      log,
      tableName: `stop-spike-e2e-${Date.now()}`,
      useRunningEmulators: true,
    });
    const page = await admin('PUT', `/admin/pages/${PAGE_ID}`, {
      accessToken: 'stop-spike-e2e-page-token',
      timezone: 'Europe/Paris',
      deliveryRoute: 'marketing_messages',
      adAccountId: '889',
      campaignId: `${PAGE_ID}000`,
    });
    expect(page).toMatchObject({ status: 200 });
    const saved = await admin('PUT', '/admin/topics/daily', {
      pageId: PAGE_ID,
      title: 'Daily deals',
      cadence: 'DAILY',
      sendTime: '09:00',
      message: { text: 'Today only' },
    });
    expect(saved).toMatchObject({ status: 200 });
    const simulator = runtime.simulator;
    if (!simulator) throw new Error('the runtime runs without its simulator');
    for (const psid of PEOPLE) {
      simulator.addPerson({ pageId: PAGE_ID, psid, timezone: 'Europe/Paris' });
      simulator.seedToken({
        pageId: PAGE_ID,
        psid,
        topicId: 'daily',
        title: 'Daily deals',
        announce: true,
      });
    }
    for (const [index, psid] of GONE.entries()) {
      if (index % 2 === 0) simulator.personOptsOut(PAGE_ID, psid);
      else simulator.personBlocks(PAGE_ID, psid);
    }
    await simulator.settle({ timeoutMs: 150_000 });
  }, 180_000);

  afterAll(async () => {
    await runtime?.stop();
  });

  it('pauses the topic once its stops and blocks pass 3 % of at least 200 sends, and alarms once', async () => {
    await runDay('2026-11-23');

    const { paused } = await topic();
    expect(paused).toMatchObject({ thresholdPercent: 3 });
    expect(paused.sends).toBeGreaterThanOrEqual(200);
    expect(paused.stops * 100).toBeGreaterThan(3 * paused.sends);
    // It paused on the batch that crossed the line: the first judged over 3 %.
    expect(paused.ratePercent).toBeLessThanOrEqual(100 * (GONE.length / 200));
    expect(log.entries.filter((entry) => entry.message === TOPIC_PAUSED_LOG_MESSAGE)).toEqual([
      expect.objectContaining({ pageId: PAGE_ID, topicId: 'daily', stops: paused.stops }),
    ]);
  }, 120_000);

  it('queues and sends nothing for the paused topic the next day', async () => {
    await runDay('2026-11-24');

    expect(sentOn('2026-11-24')).toBe(0);
    expect((await topic()).paused).toBeDefined();
  }, 120_000);

  it('sends again after an operator resumes it, the stops that tripped it left behind', async () => {
    const resumed = await admin('POST', '/admin/topics/daily/resume', {
      pageId: PAGE_ID,
    });
    expect(resumed).toMatchObject({ status: 200, body: { resumed: true } });
    const linesBefore = log.entries.length;

    await runDay('2026-11-25');

    expect((await topic()).paused).toBeUndefined();
    // Everyone still subscribed: those Meta refused on the first day are stopped or unreachable.
    expect(sentOn('2026-11-25')).toBe(PEOPLE.length - GONE.length);
    const skipped = log.entries
      .slice(linesBefore)
      .filter((entry) => entry.message === 'send job skipped' && entry.reason === 'topic-paused');
    expect(skipped).toEqual([]);
  }, 120_000);
});
