import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqsClient } from '#lib/aws/clients.ts';
import { keys } from '#lib/aws/keys.ts';
import { systemClock } from '#lib/clock.ts';
import type { Page } from '#lib/domain/page.ts';
import { type MetaSimulator, startMetaSimulator } from '../../local/meta-simulator/index.ts';
import { type QueuePoller, startQueuePoller } from '../../local/queue-poller.ts';
import { captureLog } from '../support/capture-log.ts';
import { aSenderHandler } from '../support/sender-harness.ts';
import { createTestTable } from '../support/table.ts';
import { aSecret, eventually, leakedSecrets } from './support/harness.ts';
import { createPrng, seedFromEnv } from './support/prng.ts';
import {
  aJob,
  createQueuePair,
  drain,
  enqueue,
  putPageWithTopic,
  putSubscription,
  queueDepth,
  TOPIC_ID,
  ZONE,
} from './support/sender-world.ts';

/**
 * Issue 9, scenario 6: poison jobs in the same batches as good ones, fed to the sender by the
 * local event source mapping (the poller `npm start` uses) from a queue that redrives to its DLQ
 * after three receives. Bodies that are no send job, and a send Meta refuses for good, end in
 * the DLQ after those receives with their reason logged; a Page Meta no longer knows is paused
 * with its reason; a job for a Page no longer registered ends in the DLQ too; every other job
 * of those batches is sent once.
 */
const SEED = seedFromEnv();
const random = createPrng(SEED);
const MAX_RECEIVES = 3;
const GOOD_PEOPLE = 30;
const LIVE_PAGE = '6001';
/** Registered with Recurrent, unknown to Meta (deleted there): its token is refused with 190. */
const DELETED_PAGE = '6002';
/** On the Marketing Message API; Meta refuses one token with an error nobody documents. */
const MARKETING_PAGE = '6003';
/** Never registered (or removed from the table): its job names a Page Recurrent does not have. */
const UNREGISTERED_PAGE = '6009';
const AD_ACCOUNT = '880001';

const log = captureLog();
const sqs = createSqsClient();
const secrets = {
  livePageToken: aSecret('live-page-token'),
  deletedPageToken: aSecret('deleted-page-token'),
  systemUserToken: aSecret('system-user-token'),
};
let db: Awaited<ReturnType<typeof createTestTable>>;
let simulator: MetaSimulator;
let poller: QueuePoller | undefined;

beforeAll(async () => {
  db = await createTestTable('reliability-poison');
  simulator = await startMetaSimulator({ clock: systemClock, appSecret: 'unused' });
  simulator.addPage({ id: LIVE_PAGE, accessToken: secrets.livePageToken, timezone: ZONE });
  simulator.addPage({
    id: MARKETING_PAGE,
    accessToken: secrets.systemUserToken,
    timezone: ZONE,
    adAccountId: AD_ACCOUNT,
    systemUserToken: secrets.systemUserToken,
  });
  const campaignId = simulator.addCampaign({ adAccountId: AD_ACCOUNT, pageId: MARKETING_PAGE });
  const page = (pageId: string, accessToken: string, extra: Partial<Page> = {}): Page => ({
    pageId,
    accessToken,
    deliveryRoute: 'send_api',
    ratePerSecond: 50,
    timezone: ZONE,
    status: 'active',
    ...extra,
  });
  await Promise.all([
    putPageWithTopic(db.client, db.table, page(LIVE_PAGE, secrets.livePageToken)),
    putPageWithTopic(db.client, db.table, page(DELETED_PAGE, secrets.deletedPageToken)),
    putPageWithTopic(
      db.client,
      db.table,
      page(MARKETING_PAGE, secrets.systemUserToken, {
        deliveryRoute: 'marketing_messages',
        adAccountId: AD_ACCOUNT,
        campaignId,
      }),
    ),
  ]);
}, 60_000);

afterAll(async () => {
  await poller?.stop();
  await simulator?.stop();
});

/** A person Meta knows, with a stored active subscription. */
async function aPerson(pageId: string) {
  const { psid } = simulator.addPerson({ pageId, timezone: ZONE });
  const { token } = simulator.seedToken({
    pageId,
    psid,
    topicId: TOPIC_ID,
    title: 'Daily deals',
    createdAt: Date.now() - 30 * 86_400_000,
  });
  await putSubscription(db.client, db.table, { pageId, psid, token });
  return { pageId, psid, token };
}

describe('poison jobs', () => {
  it(`end in the DLQ or acknowledged with their reason without blocking the others (seed ${SEED})`, async () => {
    const good = await Promise.all(Array.from({ length: GOOD_PEOPLE }, () => aPerson(LIVE_PAGE)));
    const refused = await aPerson(MARKETING_PAGE);
    simulator.injectError({ token: refused.token, code: 3 });
    const onDeletedPage = await putSubscription(db.client, db.table, {
      pageId: DELETED_PAGE,
      psid: 'gone-1',
      token: aSecret('token-of-a-deleted-page'),
    });
    const notJson = '{"pageId": "6001", "psid": ';
    const notAJob = JSON.stringify({ pageId: LIVE_PAGE, psid: 'x', slot: 'tomorrow' });
    const unregistered = JSON.stringify(aJob({ pageId: UNREGISTERED_PAGE, psid: 'nobody' }));
    const refusedForGood = JSON.stringify(aJob(refused));
    const goodBodies = new Set(good.map((person) => JSON.stringify(aJob(person))));
    const bodies = random.shuffle([
      ...goodBodies,
      refusedForGood,
      JSON.stringify(aJob(onDeletedPage)),
      notJson,
      notAJob,
      unregistered,
    ]);
    const queues = await createQueuePair(sqs, 'reliability-poison', {
      maxReceiveCount: MAX_RECEIVES,
      visibilityTimeoutSeconds: 1,
    });
    // Everything is queued before the consumer starts, so the first batches mix poison and good.
    await enqueue(sqs, queues.send, bodies);
    const batches: string[][] = [];
    poller = startQueuePoller({
      sqs,
      queueUrl: queues.send,
      queueArn: queues.sendArn,
      handler: aSenderHandler({
        dynamo: db.client,
        sqs,
        table: db.table,
        queueUrl: queues.send,
        graphUrl: simulator.url,
        log,
        timeoutMs: 5_000,
      }),
      batchSize: 10,
      maxConcurrency: 2,
      functionTimeoutMs: 30_000,
      log,
      onBatch: (records) => batches.push(records.map((record) => record.body)),
    });
    const redriven = await eventually(
      async () => (await queueDepth(sqs, queues.deadLetter)) >= 4,
      30_000,
      250,
    );
    await poller.stop();
    poller = undefined;

    const left = await queueDepth(sqs, queues.send);
    const deadLetters = (await drain(sqs, queues.deadLetter)).map((message) => message.Body);
    const sentTo = (token: string) => simulator.sent().filter((sent) => sent.token === token);
    const reasons = (message: string) => log.entries.filter((entry) => entry.message === message);
    console.info(
      `poison jobs (seed ${SEED}): ${bodies.length} jobs in ${batches.length} batches; ${deadLetters.length} in the DLQ, ${left} left on the queue, ${simulator.sent().length} sent`,
    );
    expect(redriven).toBe(true);
    expect([...deadLetters].sort()).toEqual(
      [notJson, notAJob, refusedForGood, unregistered].sort(),
    );
    expect(left).toBe(0);
    // The poison bodies shared batches with good jobs, which went out once each.
    expect(
      batches.some(
        (batch) =>
          batch.includes(notJson) && batch.filter((body) => goodBodies.has(body)).length > 0,
      ),
    ).toBe(true);
    expect(good.filter((person) => sentTo(person.token).length !== 1)).toEqual([]);
    // Each poison body was read MAX_RECEIVES times, each time with its reason, before the DLQ.
    const poisonLines = reasons('poison send job');
    expect(poisonLines).toHaveLength(2 * MAX_RECEIVES);
    expect(poisonLines.map((entry) => entry.problem)).toEqual(
      expect.arrayContaining([
        'body is not JSON',
        expect.stringMatching(/^body is not a send job: /),
      ]),
    );
    const failures = reasons('send failed').filter((entry) => entry.psid === refused.psid);
    expect(failures).toHaveLength(MAX_RECEIVES);
    expect(String(failures[0]?.reason)).toMatch(
      /^meta error 3\/- \(HTTP 400, fbtrace_id .+\): unknown$/,
    );
    expect(sentTo(refused.token)).toEqual([]);
    // Meta no longer knows the Page: it is paused with the reason, its job acknowledged.
    const deletedPage = await db.client.send(
      new GetCommand({ TableName: db.table, Key: keys.page(DELETED_PAGE) }),
    );
    expect(deletedPage.Item).toMatchObject({
      status: 'paused',
      pausedReason: expect.stringMatching(/^meta error 190\/- .*: page-token-invalid$/),
    });
    // A job for a Page Recurrent does not have fails, with its reason, until the DLQ takes it.
    expect(reasons('send failed')).toContainEqual(
      expect.objectContaining({
        pageId: UNREGISTERED_PAGE,
        reason: `Page ${UNREGISTERED_PAGE} is not registered`,
      }),
    );
    expect(simulator.sent().filter((sent) => sent.pageId === UNREGISTERED_PAGE)).toEqual([]);
    expect(
      leakedSecrets(log.lines, {
        ...secrets,
        ...Object.fromEntries(good.map(({ token }, i) => [`token ${i}`, token])),
        refusedToken: refused.token,
        deletedPageSubscriberToken: onDeletedPage.token ?? '',
      }),
    ).toEqual([]);
  }, 90_000);
});
