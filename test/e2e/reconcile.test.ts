import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoClient } from '#lib/aws/clients.ts';
import { dynamoSubscriptionStore } from '#lib/aws/dynamo-subscription-store.ts';
import { MISSING_REASON } from '#lib/domain/admin/reconcile.ts';
import { freePort } from '../../local/emulators.ts';
import { type Runtime, startRuntime } from '../../local/runtime.ts';
import { captureLog } from '../support/capture-log.ts';
import { adminClient, moveClock, until } from '../support/local-runtime.ts';

/**
 * The reconcile and the erasure through `npm start`'s runtime: the hourly tick on the runtime
 * clock, the admin API over HTTP, and the Meta simulator's token list and Unsubscribe API.
 */
const PAGE_ID = '7101';
const PAGE_TOKEN = 'e2e-reconcile-page-token';
const ADMIN_TOKEN = 'e2e-reconcile-admin';
const START = Date.parse('2026-11-23T00:30:00Z');
const HOUR = 3_600_000;

let runtime: Runtime;
const log = captureLog();
const admin = adminClient(() => runtime, ADMIN_TOKEN);

function simulator() {
  if (!runtime.simulator) throw new Error('the runtime runs without its simulator');
  return runtime.simulator;
}

async function subscription(psid: string) {
  const [item] = await dynamoSubscriptionStore(createDynamoClient(), runtime.tableName).getMany([
    { pageId: PAGE_ID, psid, topicId: 'daily' },
  ]);
  return item;
}

const stoppedAtMeta = (psid: string) =>
  simulator()
    .tokens(PAGE_ID)
    .filter((token) => token.psid === psid)
    .every((token) => token.stopped);

beforeAll(async () => {
  runtime = await startRuntime({
    port: await freePort(),
    appSecret: 'e2e-reconcile-secret',
    verifyToken: 'e2e-reconcile-verify',
    adminToken: ADMIN_TOKEN,
    graphVersion: 'v24.0',
    clockStart: START,
    clockSpeed: 1,
    log,
    tableName: `e2e-reconcile-${Date.now()}`,
    useRunningEmulators: true,
  });
  const page = await admin('PUT', `/admin/pages/${PAGE_ID}`, {
    accessToken: PAGE_TOKEN,
    deliveryRoute: 'marketing_messages',
    adAccountId: '888',
    campaignId: '901',
    timezone: 'Europe/Paris',
  });
  expect(page.status).toBe(200);
  const topic = await admin('PUT', '/admin/topics/daily', {
    pageId: PAGE_ID,
    title: 'Daily deals',
    cadence: 'DAILY',
    sendTime: '09:00',
    message: { text: 'Today only' },
  });
  expect(topic.status).toBe(200);
  expect((await admin('PUT', `/admin/pages/${PAGE_ID}`, { defaultTopicId: 'daily' })).status).toBe(
    200,
  );
  for (const psid of ['ann', 'gone']) {
    simulator().addPerson({ pageId: PAGE_ID, psid });
    simulator().seedToken({ pageId: PAGE_ID, psid, topicId: 'daily', announce: true });
  }
  // Came through a click-to-Messenger ad: Meta has a token, no webhook ever told us.
  simulator().addPerson({ pageId: PAGE_ID, psid: 'from-ad' });
  simulator().seedToken({ pageId: PAGE_ID, psid: 'from-ad', topicId: 'daily' });
  await simulator().settle();
}, 60_000);

afterAll(async () => {
  await runtime?.stop();
});

describe('reconcile and erasure, end to end', () => {
  it('the hourly tick adds a person only Meta knew, and stops one Meta no longer lists a day later', async () => {
    expect(await subscription('ann')).toMatchObject({ status: 'active' });
    expect(await subscription('from-ad')).toBeUndefined();
    // An MM opt-out has no webhook: Meta simply stops listing the person.
    const unsubscribed = await fetch(
      `${simulator().url}/v24.0/${PAGE_ID}/messaging_customer_base/unsubscribe`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${PAGE_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ data: [{ psid: 'gone' }] }),
      },
    );
    expect(await unsubscribed.json()).toEqual({ invalid_rows_count: 0 });

    await moveClock(runtime, START + HOUR);
    const afterFirst = await subscription('gone');
    await moveClock(runtime, START + 25 * HOUR);

    expect(await subscription('from-ad')).toMatchObject({ status: 'active' });
    expect(afterFirst).toMatchObject({ status: 'active', missingSince: START + HOUR / 2 });
    expect(await subscription('gone')).toMatchObject({
      status: 'stopped',
      statusReason: MISSING_REASON,
    });
    expect(await subscription('ann')).toMatchObject({ status: 'active' });
  });

  it("an erasure unsubscribes the person's token at Meta", async () => {
    const erased = await admin('DELETE', `/admin/contacts/${PAGE_ID}/ann`);

    expect(erased.status).toBe(200);
    expect(erased.body.meta).toEqual({ status: 'unsubscribed' });
    expect(stoppedAtMeta('ann')).toBe(true);
    expect(await subscription('ann')).toBeUndefined();
  });

  it('with Meta down, the erasure reports it pending, and the next tick tells Meta', async () => {
    simulator().setFaults({ serverErrorRate: 1, routes: ['unsubscribe'] });

    const erased = await admin('DELETE', `/admin/contacts/${PAGE_ID}/from-ad`);
    simulator().setFaults({ serverErrorRate: 0, routes: [] });

    expect(erased.status).toBe(200);
    expect(erased.body.erased.subscriptions).toBe(1);
    expect(erased.body.meta).toMatchObject({ status: 'pending', reason: 'Meta error 2' });
    expect(stoppedAtMeta('from-ad')).toBe(false);
    await moveClock(runtime, Date.parse(erased.body.meta.retryAt) + HOUR);
    await until(() => stoppedAtMeta('from-ad'));
    // Meta listed the person until then: the reconcile never brought them back.
    expect(await subscription('from-ad')).toBeUndefined();
    expect(log.lines.some((line) => line.includes('unsubscribe at Meta failed'))).toBe(true);
  });
});
