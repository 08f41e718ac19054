import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../local/emulators.ts';
import { type Runtime, startRuntime } from '../../local/runtime.ts';
import { captureLog } from '../support/capture-log.ts';
import { adminClient, moveClock, settled, until } from '../support/local-runtime.ts';

/**
 * Marketing Message API sends through `npm start`'s runtime, and Meta's status webhooks back
 * from the simulator (documented shape, change envelope or bare objects), joined to the sends
 * and counted in `GET /admin/stats`.
 */
const ADMIN_TOKEN = 'status-e2e-admin';
const PAGE_TOKEN = 'status-e2e-page-token';
const AD_ACCOUNT = '888';
// Monday 23 November 2026, 06:00 in Paris: before the 09:00 send time.
const START = Date.parse('2026-11-23T05:00:00Z');
const DAY = '2026-11-23';
const PEOPLE = ['900001', '900002', '900003'];

const log = captureLog();

describe.each([
  ['envelope', '7201'],
  ['bare', '7202'],
] as const)('status webhooks end to end, %s shape', (shape, pageId) => {
  let runtime: Runtime;
  const admin = adminClient(() => runtime, ADMIN_TOKEN);

  beforeAll(async () => {
    runtime = await startRuntime({
      port: await freePort(),
      appSecret: 'status-e2e-secret',
      verifyToken: 'status-e2e-verify',
      adminToken: ADMIN_TOKEN,
      graphVersion: 'v24.0',
      clockStart: START,
      clockSpeed: 1,
      log,
      tableName: `status-e2e-${shape}-${Date.now()}`,
      useRunningEmulators: true,
      simulatorMarketingStatus: { delayMs: 60_000, readProbability: 1, clickProbability: 1, shape },
    });
    const page = await admin('PUT', `/admin/pages/${pageId}`, {
      accessToken: PAGE_TOKEN,
      timezone: 'Europe/Paris',
      deliveryRoute: 'marketing_messages',
      adAccountId: AD_ACCOUNT,
      campaignId: `${pageId}000`,
    });
    expect(page).toMatchObject({ status: 200 });
    const topic = await admin('PUT', '/admin/topics/daily', {
      pageId,
      title: 'Daily deals',
      cadence: 'DAILY',
      sendTime: '09:00',
      message: { text: 'Today only' },
    });
    expect(topic).toMatchObject({ status: 200 });
    const simulator = runtime.simulator;
    if (!simulator) throw new Error('the runtime runs without its simulator');
    for (const psid of PEOPLE) {
      simulator.addPerson({ pageId, psid, timezone: 'Europe/Paris' });
      simulator.seedToken({ pageId, psid, topicId: 'daily', title: 'Daily deals', announce: true });
    }
    await simulator.settle();
  }, 60_000);

  afterAll(async () => {
    await runtime?.stop();
  });

  it('sends on the MM route and counts delivered, read and clicked per topic and day', async () => {
    const stats = () =>
      admin('GET', `/admin/stats?pageId=${pageId}&topicId=daily&from=${DAY}&to=${DAY}`);

    await moveClock(runtime, Date.parse(`${DAY}T08:16:00Z`));
    await settled(runtime);
    // The simulator's statuses follow each send a minute apart: delivered, read, clicked.
    await moveClock(runtime, Date.parse(`${DAY}T08:30:00Z`));
    await until(async () => {
      const totals = (await stats()).body.totals as Record<string, number>;
      return totals.clicked === PEOPLE.length;
    });

    const report = await stats();
    expect(report.status).toBe(200);
    expect(report.body.totals).toMatchObject({
      sent: PEOPLE.length,
      delivered: PEOPLE.length,
      read: PEOPLE.length,
      clicked: PEOPLE.length,
      undelivered: 0,
    });
    expect(runtime.simulator?.sent().filter((sent) => sent.pageId === pageId)).toHaveLength(
      PEOPLE.length,
    );
    const page = await admin('GET', `/admin/stats?pageId=${pageId}&from=${DAY}&to=${DAY}`);
    expect((page.body.totals as Record<string, number>).unmatched).toBe(0);
  });
});
