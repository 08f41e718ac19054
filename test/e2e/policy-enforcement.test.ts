import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAGE_PAUSED_LOG_MESSAGE } from '#lib/domain/stats.ts';
import { freePort } from '../../local/emulators.ts';
import { type Runtime, startRuntime } from '../../local/runtime.ts';
import { captureLog } from '../support/capture-log.ts';
import { adminClient, settled } from '../support/local-runtime.ts';

/**
 * Meta's `messaging_policy_enforcement` webhooks through `npm start`'s runtime, sent by the
 * simulator's control route: a block pauses the Page with Meta's reason and nothing is sent;
 * an unknown action is logged and answered 200; an unblock is shown, and the operator sets
 * the Page active again.
 */
const ADMIN_TOKEN = 'policy-e2e-admin';
const PAGE_ID = '7401';
// Monday 23 November 2026, 06:00 in Paris: before the 09:00 send time.
const START = Date.parse('2026-11-23T05:00:00Z');
const PEOPLE = ['940001', '940002', '940003'];

const log = captureLog();

describe('policy enforcement webhooks end to end', () => {
  let runtime: Runtime;
  const call = adminClient(() => runtime, ADMIN_TOKEN);
  const page = async () =>
    (await call('GET', '/admin/pages')).body.items.find(
      (item: { pageId: string }) => item.pageId === PAGE_ID,
    );
  const policy = (body: Record<string, unknown>) =>
    call('POST', '/_local/simulator/policy-enforcement', { pageId: PAGE_ID, ...body });
  const sentTo = () => (runtime.simulator?.sent() ?? []).filter((sent) => sent.pageId === PAGE_ID);
  const runDay = async (day: string) => {
    const moved = await call('POST', '/_local/clock', { now: `${day}T08:16:00Z` });
    expect(moved.status).toBe(200);
    await settled(runtime);
  };

  beforeAll(async () => {
    runtime = await startRuntime({
      port: await freePort(),
      appSecret: 'policy-e2e-secret',
      verifyToken: 'policy-e2e-verify',
      adminToken: ADMIN_TOKEN,
      graphVersion: 'v24.0',
      clockStart: START,
      clockSpeed: 1,
      log,
      tableName: `policy-e2e-${Date.now()}`,
      useRunningEmulators: true,
    });
    const registered = await call('PUT', `/admin/pages/${PAGE_ID}`, {
      accessToken: 'policy-e2e-page-token',
      timezone: 'Europe/Paris',
    });
    expect(registered.status).toBe(200);
    const topic = await call('PUT', '/admin/topics/daily', {
      pageId: PAGE_ID,
      title: 'Daily deals',
      cadence: 'DAILY',
      sendTime: '09:00',
      message: { text: 'Today only' },
    });
    expect(topic.status).toBe(200);
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
    await simulator.settle({ timeoutMs: 60_000 });
  }, 90_000);

  afterAll(async () => {
    await runtime?.stop();
  });

  it('pauses the Page on a block, with Meta’s reason and an alarm, and sends nothing', async () => {
    expect((await policy({ action: 'block', reason: 'Spam reports' })).status).toBe(200);
    await runtime.simulator?.settle();

    expect(await page()).toMatchObject({
      status: 'paused',
      pausedReason: 'Meta policy enforcement (block): Spam reports',
      policy: { action: 'block', reason: 'Spam reports' },
    });
    expect(log.entries).toContainEqual(
      expect.objectContaining({ message: PAGE_PAUSED_LOG_MESSAGE, pageId: PAGE_ID }),
    );
    await runDay('2026-11-23');
    expect(sentTo()).toHaveLength(0);
  }, 90_000);

  it('logs and ignores an unknown action, answering Meta 200, the older spelling too', async () => {
    await policy({ action: 'suspend', reason: 'x', key: 'policy-enforcement' });
    await runtime.simulator?.settle();

    const last = runtime.simulator?.deliveries().at(-1);
    expect(last).toMatchObject({ state: 'delivered', fields: ['messaging_policy_enforcement'] });
    expect(log.entries).toContainEqual(
      expect.objectContaining({
        message: 'webhook content ignored',
        ignored: ["a policy_enforcement with the unknown action 'suspend'"],
      }),
    );
    expect(await page()).toMatchObject({ status: 'paused', policy: { action: 'block' } });
  }, 90_000);

  it('shows an unblock; sends resume once the operator sets the Page active', async () => {
    await policy({ action: 'unblock' });
    await runtime.simulator?.settle();
    expect(await page()).toMatchObject({ status: 'paused', policy: { action: 'unblock' } });

    const active = await call('PUT', `/admin/pages/${PAGE_ID}`, { status: 'active' });
    expect(active.body.page).toMatchObject({ status: 'active', policy: { action: 'unblock' } });
    await runDay('2026-11-24');

    expect(sentTo()).toHaveLength(PEOPLE.length);
  }, 90_000);
});
