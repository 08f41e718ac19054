import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoClient, createSqsClient } from '#lib/aws/clients.ts';
import { keys } from '#lib/aws/keys.ts';
import { webhookDeps } from '#lib/aws/webhook-deps.ts';
import { mapWithConcurrency } from '#lib/concurrency.ts';
import { sha256 } from '#lib/hash.ts';
import { signBody } from '#lib/http/meta-signature.ts';
import { createWebhookHandler } from '../../functions/webhook.ts';
import { anApiEvent } from '../support/api-event.ts';
import { captureLog } from '../support/capture-log.ts';
import { type GraphStandIn, startGraphStandIn } from '../support/graph-stand-in.ts';
import { aDelivery, anOptin } from '../support/meta-payloads.ts';
import { createTestQueue } from '../support/queue.ts';
import { aSenderHandler, sqsRecordOf } from '../support/sender-harness.ts';
import { createTestTable } from '../support/table.ts';
import { aSecret, leakedSecrets } from './support/harness.ts';
import { createPrng, seedFromEnv } from './support/prng.ts';
import {
  aJob,
  currentSlot,
  enqueue,
  putPageWithTopic,
  putSubscription,
  ZONE,
} from './support/sender-world.ts';
import { type Attempt, injectStorageFaults, retriedCalls } from './support/storage-faults.ts';

/**
 * Issue 9, scenario 5: DynamoDB throttling (ProvisionedThroughputExceededException,
 * ThrottlingException) and server errors injected at the SDK client the handlers are built
 * with. The SDK's own retries (with backoff) absorb short bursts; a call that keeps failing
 * fails its delivery or its job, which leaves nothing half-written, never reaches Meta, and
 * completes when retried.
 */
const SEED = seedFromEnv();
const random = createPrng(SEED);
const APP_SECRET = aSecret('storage-app-secret');
const PAGE_TOKEN = aSecret('storage-page-token');
const NOW = Date.parse('2026-11-21T09:00:00Z');
const context = {} as Context;
const PAGE_ID = '1001';

const log = captureLog();
const dynamo = createDynamoClient();
const faults = injectStorageFaults(dynamo, random);
const sqs = createSqsClient();
let db: Awaited<ReturnType<typeof createTestTable>>;
let graph: GraphStandIn;
const answers: string[] = [];

beforeAll(async () => {
  [db, graph] = await Promise.all([createTestTable('reliability-storage'), startGraphStandIn()]);
  await putPageWithTopic(db.client, db.table, {
    pageId: PAGE_ID,
    accessToken: PAGE_TOKEN,
    deliveryRoute: 'send_api',
    ratePerSecond: 100,
    timezone: ZONE,
    status: 'active',
  });
});

afterAll(async () => {
  faults.clear();
  await graph?.close();
});

/** Fails the first attempt of about `rate` of all calls: the SDK's retry must absorb it. */
function glitches(rate: number) {
  faults.add((attempt) => (attempt.attempt === 1 && random.chance(rate) ? 'before' : undefined));
}

async function item(key: { pk: string; sk: string }) {
  faults.clear();
  return (await db.client.send(new GetCommand({ TableName: db.table, Key: key }))).Item;
}

const isClaimOf = (psids: ReadonlySet<string>) => (attempt: Attempt) =>
  attempt.command.startsWith('UpdateItem') &&
  String(attempt.input.UpdateExpression ?? '').startsWith('SET lastSlot') &&
  [...psids].some((psid) => attempt.pk === `SUB#${PAGE_ID}#${psid}`);

describe('storage faults at the webhook', () => {
  const webhook = () =>
    createWebhookHandler(
      { appSecret: APP_SECRET, verifyToken: 'verify', maxBodyBytes: 4 * 1024 * 1024 },
      webhookDeps(dynamo, db.table, { clock: { now: () => NOW }, log }),
    );
  const post = async (body: string) => {
    const answer = await webhook()(
      anApiEvent({
        body,
        headers: {
          'content-type': 'application/json',
          'x-hub-signature-256': signBody(body, APP_SECRET),
        },
      }),
      context,
    );
    answers.push(String(answer.body));
    return answer;
  };
  const subscription = (psid: string) =>
    item(keys.subscription({ pageId: PAGE_ID, psid, topicId: 'daily' }));

  it(`applies every delivery once while a third of the calls are throttled at first (seed ${SEED})`, async () => {
    const psids = Array.from({ length: 45 }, (_, i) => `glitch-${i}`);
    const bodies: string[] = [];
    for (let i = 0; i < psids.length; i += 3) {
      bodies.push(
        aDelivery(
          psids.slice(i, i + 3).map((psid) =>
            anOptin({
              pageId: PAGE_ID,
              psid,
              topicId: 'daily',
              timestamp: NOW - 1_000,
              token: `tok-${psid}`,
            }),
          ),
        ),
      );
    }
    const before = faults.attempts.length;
    glitches(0.33);

    const statuses = await mapWithConcurrency(
      bodies,
      5,
      async (body) => (await post(body)).statusCode,
    );
    faults.clear();

    const attempts = faults.attempts.slice(before);
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    expect(attempts.filter((attempt) => attempt.injected).length).toBeGreaterThan(0);
    expect(retriedCalls(attempts).length).toBeGreaterThan(0);
    for (const psid of psids) {
      expect(await subscription(psid)).toMatchObject({ status: 'active', token: `tok-${psid}` });
    }
  });

  it('answers 5xx, stores nothing of a delivery whose archive keeps failing, and applies it when Meta retries', async () => {
    const body = aDelivery([
      anOptin({
        pageId: PAGE_ID,
        psid: 'archive-1',
        topicId: 'daily',
        timestamp: NOW,
        token: aSecret('tok'),
      }),
    ]);
    const archiveKey = keys.event(sha256(Buffer.from(body)));
    faults.add((attempt) => (attempt.pk === archiveKey.pk ? 'before' : undefined));

    const failed = await post(body);
    faults.clear();

    expect(failed.statusCode).toBe(500);
    expect(JSON.parse(String(failed.body))).toEqual({
      error: { code: 'internal', message: 'internal error' },
    });
    const archiveAttempts = faults.attempts.filter((attempt) => attempt.pk === archiveKey.pk);
    expect(archiveAttempts.map((attempt) => attempt.attempt)).toEqual([1, 2, 3, 4, 5]);
    expect(await item(archiveKey)).toBeUndefined();
    expect(await subscription('archive-1')).toBeUndefined();

    expect((await post(body)).statusCode).toBe(200);
    expect(await subscription('archive-1')).toMatchObject({ status: 'active' });
    expect(await item(archiveKey)).toMatchObject({ state: 'applied' });
  });

  it('leaves a delivery unapplied, each item whole, when one subscription write keeps failing, and completes it on the retry', async () => {
    const psids = ['partial-1', 'partial-2', 'partial-3'];
    const body = aDelivery(
      psids.map((psid) =>
        anOptin({ pageId: PAGE_ID, psid, topicId: 'daily', timestamp: NOW, token: `tok-${psid}` }),
      ),
    );
    const archiveKey = keys.event(sha256(Buffer.from(body)));
    faults.add((attempt) =>
      attempt.pk === `SUB#${PAGE_ID}#partial-2` && attempt.command.startsWith('UpdateItem')
        ? 'before'
        : undefined,
    );

    const failed = await post(body);
    faults.clear();

    expect(failed.statusCode).toBe(500);
    expect(await subscription('partial-2')).toBeUndefined();
    // The archive says it was not applied, so Meta's retry applies it again.
    expect(await item(archiveKey)).toMatchObject({ state: 'received' });
    for (const psid of ['partial-1', 'partial-3']) {
      const written = await subscription(psid);
      if (written) expect(written).toMatchObject({ status: 'active', token: `tok-${psid}` });
    }

    expect((await post(body)).statusCode).toBe(200);
    for (const psid of psids) {
      expect(await subscription(psid)).toMatchObject({ status: 'active', token: `tok-${psid}` });
    }
    expect(await item(archiveKey)).toMatchObject({ state: 'applied' });
  });
});

describe('storage faults at the sender', () => {
  let queueUrl: string;
  const sender = () =>
    aSenderHandler({ dynamo, sqs, table: db.table, queueUrl, graphUrl: graph.url, log });

  beforeAll(async () => {
    queueUrl = (await createTestQueue('reliability-storage')).queueUrl;
  });

  /** People with stored subscriptions and their jobs on the queue, received as Lambda would. */
  async function jobsFor(count: number, prefix: string) {
    const people = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        putSubscription(db.client, db.table, {
          pageId: PAGE_ID,
          psid: `${prefix}-${i}`,
          token: aSecret(`token-${prefix}`),
        }),
      ),
    );
    await enqueue(
      sqs,
      queueUrl,
      people.map((person) => JSON.stringify(aJob(person))),
    );
    const records: SQSRecord[] = [];
    while (records.length < count) {
      const answer = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: 60,
          WaitTimeSeconds: 1,
        }),
      );
      for (const message of answer.Messages ?? []) records.push(sqsRecordOf(message, 1));
    }
    return { people, records };
  }

  /** Hands records to the sender until none is reported failed, as SQS would redeliver them. */
  async function deliver(records: readonly SQSRecord[], rounds = 8): Promise<number> {
    let pending = [...records];
    for (let round = 1; round <= rounds && pending.length > 0; round++) {
      const failed = new Set<string>();
      for (let at = 0; at < pending.length; at += 10) {
        const event: SQSEvent = { Records: pending.slice(at, at + 10) };
        const response = await sender()(event, context);
        for (const failure of response.batchItemFailures) failed.add(failure.itemIdentifier);
      }
      pending = pending
        .filter((record) => failed.has(record.messageId))
        .map((record) => ({
          ...record,
          attributes: { ...record.attributes, ApproximateReceiveCount: String(round + 1) },
        }));
    }
    return pending.length;
  }

  it(`sends every job once while a third of the calls are throttled at first (seed ${SEED})`, async () => {
    const { people, records } = await jobsFor(20, 'glitch');
    const before = faults.attempts.length;
    glitches(0.33);

    const left = await deliver(records);
    faults.clear();

    expect(left).toBe(0);
    expect(retriedCalls(faults.attempts.slice(before)).length).toBeGreaterThan(0);
    expect(people.filter((person) => graph.requestsFor(person.token ?? '').length !== 1)).toEqual(
      [],
    );
  });

  it('never calls Meta for a job whose claim keeps failing, writes nothing for it, and sends it once retried', async () => {
    const { people, records } = await jobsFor(10, 'claim');
    const chosen = new Set(people.slice(0, 2).map((person) => person.psid));
    faults.add((attempt) => (isClaimOf(chosen)(attempt) ? 'before' : undefined));

    const response = await sender()({ Records: records }, context);
    faults.clear();

    const chosenRecords = records.filter((record) =>
      [...chosen].some((psid) => record.body.includes(`"psid":"${psid}"`)),
    );
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(
      chosenRecords.map((record) => record.messageId).sort(),
    );
    for (const person of people) {
      const requests = graph.requestsFor(person.token ?? '').length;
      expect(requests).toBe(chosen.has(person.psid) ? 0 : 1);
    }
    for (const psid of chosen) {
      const stored = await item(keys.subscription({ pageId: PAGE_ID, psid, topicId: 'daily' }));
      expect(stored).toMatchObject({ version: 1 });
      expect(stored?.lastSlot).toBeUndefined();
      const claims = faults.attempts.filter(isClaimOf(new Set([psid])));
      expect(claims.map((attempt) => attempt.attempt)).toEqual([1, 2, 3, 4, 5]);
      expect(log.entries).toContainEqual(
        expect.objectContaining({
          message: 'send job failed',
          psid,
          error: expect.stringMatching(
            /^(ProvisionedThroughputExceededException|ThrottlingException|InternalServerError): /,
          ),
        }),
      );
    }

    expect(
      await deliver(
        chosenRecords.map((record) => ({
          ...record,
          attributes: { ...record.attributes, ApproximateReceiveCount: '2' },
        })),
      ),
    ).toBe(0);
    for (const person of people) expect(graph.requestsFor(person.token ?? '')).toHaveLength(1);
  });

  it('sends once when a claim was written but its answer was lost', async () => {
    const { people, records } = await jobsFor(3, 'lost');
    const psids = new Set(people.map((person) => person.psid));
    // Each person's first claim only: on a loaded machine a late request re-records its claim,
    // a second claim command whose answer this test does not mean to lose.
    const lost = new Set<string>();
    faults.add((attempt) => {
      const pk = String(attempt.pk);
      if (!isClaimOf(psids)(attempt) || attempt.attempt !== 1 || lost.has(pk)) return;
      lost.add(pk);
      return 'after';
    });

    const left = await deliver(records);
    faults.clear();

    expect(left).toBe(0);
    expect(faults.attempts.filter((attempt) => attempt.injected === 'after')).toHaveLength(3);
    for (const person of people) {
      expect(graph.requestsFor(person.token ?? '')).toHaveLength(1);
      const stored = await item(keys.subscription(person));
      expect(stored?.lastSlot).toBe(currentSlot());
    }
  });

  it('never logs or answers a token, the Page token or the app secret', () => {
    const tokens = graph.requests.flatMap((request) => (request.token ? [request.token] : []));
    expect(tokens.length).toBeGreaterThan(0);
    expect(
      leakedSecrets([...log.lines, ...answers], {
        APP_SECRET,
        PAGE_TOKEN,
        ...Object.fromEntries(tokens.map((token, i) => [`token ${i}`, token])),
      }),
    ).toEqual([]);
  });
});
