import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoCatalog } from '#lib/aws/dynamo-catalog.ts';
import { senderDeps } from '#lib/aws/sender-deps.ts';
import { systemClock } from '#lib/clock.ts';
import { graphClient } from '#lib/graph/graph-client.ts';
import { captureLog } from '../support/capture-log.ts';
import { aTopic } from '../support/fixtures.ts';
import { NO_QUIET_HOURS } from '../support/sender-harness.ts';
import { createTestTable } from '../support/table.ts';

let db: Awaited<ReturnType<typeof createTestTable>>;
const sqs = new SQSClient({});

beforeAll(async () => {
  db = await createTestTable('sender-reads');
});

afterAll(() => {
  db.client.destroy();
  sqs.destroy();
});

/** The sender's ports as `functions/sender.ts` wires them, on the wall clock. */
function aSendersPorts() {
  return senderDeps(
    { dynamo: db.client, sqs },
    { table: db.table, queueUrl: 'http://127.0.0.1:1/unused', burst: 10 },
    {
      graph: graphClient({ baseUrl: 'http://127.0.0.1:1', version: 'v24.0' }),
      clock: systemClock,
      log: captureLog(),
    },
  );
}

async function putPageAndTopic(pageId: string) {
  const catalog = dynamoCatalog(db.client, db.table);
  await catalog.putPage({
    pageId,
    accessToken: `${pageId}-token`,
    deliveryRoute: 'send_api',
    ratePerSecond: 20,
    timezone: 'Europe/Paris',
    status: 'active',
    quietHours: NO_QUIET_HOURS,
  });
  await catalog.putTopic(aTopic({ pageId }));
  return catalog;
}

describe("the sender's Page and topic reads", () => {
  it('keep an operator change out for a few seconds: one read per container, not per batch', async () => {
    const catalog = await putPageAndTopic('reads-1');
    const ports = aSendersPorts();
    const page = await ports.catalog.getPage('reads-1');
    if (!page) throw new Error('the Page was just put');

    await catalog.putPage({ ...page, ratePerSecond: 5 });

    expect((await ports.catalog.getPage('reads-1'))?.ratePerSecond).toBe(20);
  });

  it('see at once a Page this sender paused or held itself', async () => {
    await putPageAndTopic('reads-2');
    const ports = aSendersPorts();
    await ports.catalog.getPage('reads-2');

    await ports.sends.holdPage('reads-2', Date.now() + 60_000, 'campaign not ready');
    const held = await ports.catalog.getPage('reads-2');
    await ports.sends.pausePage('reads-2', 'token expired', Date.now());
    const paused = await ports.catalog.getPage('reads-2');

    expect(held?.heldReason).toBe('campaign not ready');
    expect(paused?.status).toBe('paused');
  });

  it('see at once a topic this sender paused with the stop-spike breaker', async () => {
    await putPageAndTopic('reads-3');
    const ports = aSendersPorts();
    await ports.catalog.getTopic('reads-3', 'deals');
    if (!ports.safety) throw new Error('the sender is wired with its breaker');

    const paused = await ports.safety.pauseTopic('reads-3', 'deals', {
      at: Date.now(),
      reason: '9 stops over 100 sends',
      sends: 100,
      stops: 9,
      ratePercent: 9,
      thresholdPercent: 3,
    });

    expect(paused).toBe(true);
    expect((await ports.catalog.getTopic('reads-3', 'deals'))?.paused?.stops).toBe(9);
  });
});
