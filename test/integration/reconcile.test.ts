import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminDeps } from '#lib/aws/admin-deps.ts';
import { keys } from '#lib/aws/keys.ts';
import { webhookDeps } from '#lib/aws/webhook-deps.ts';
import { fixedClock } from '#lib/clock.ts';
import { MISSING_REASON } from '#lib/domain/admin/reconcile.ts';
import { applySubscriptionEvents } from '#lib/domain/intake/ingest-delivery.ts';
import { createStatsTally } from '#lib/domain/stats.ts';
import type { SubscriptionEvent } from '#lib/domain/subscription.ts';
import { graphClient } from '#lib/graph/graph-client.ts';
import { createAdminHandler, createReconcileScheduleHandler } from '../../functions/admin.ts';
import { type MetaSimulator, startMetaSimulator } from '../../local/meta-simulator/index.ts';
import { anApiEvent } from '../support/api-event.ts';
import { captureLog } from '../support/capture-log.ts';
import { createTestQueue } from '../support/queue.ts';
import { createTestTable } from '../support/table.ts';

const ADMIN_TOKEN = 'admin-token-for-tests';
const NOW = Date.parse('2026-11-21T03:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const context = { getRemainingTimeInMillis: () => 60_000 } as Context;

let db: Awaited<ReturnType<typeof createTestTable>>;
let queue: Awaited<ReturnType<typeof createTestQueue>>;
let sim: MetaSimulator;
const clock = fixedClock(NOW);
const log = captureLog();
let admin: ReturnType<typeof createAdminHandler>;
let tick: ReturnType<typeof createReconcileScheduleHandler>;
let sequence = 0;
const unique = (prefix: string) => `${prefix}${++sequence}`;

async function call(method: string, path: string, body?: unknown) {
  const response = await admin(
    anApiEvent({
      method,
      path,
      ...(body !== undefined && { body: JSON.stringify(body) }),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    }),
    context,
  );
  return {
    status: response.statusCode ?? 0,
    // biome-ignore lint/suspicious/noExplicitAny: answers are read as loosely as a client would.
    body: JSON.parse(response.body ?? 'null') as any,
  };
}

/** A Page on the Marketing Message API, known to the simulator, with one topic. */
async function anMmPage() {
  const pageId = unique('80');
  const accessToken = unique('page-token-');
  sim.addPage({ id: pageId, accessToken, adAccountId: '777', systemUserToken: 'system' });
  const page = await call('PUT', `/admin/pages/${pageId}`, {
    accessToken,
    deliveryRoute: 'marketing_messages',
    adAccountId: '777',
    campaignId: '123',
  });
  expect(page.status).toBe(200);
  const topicId = unique('topic-');
  const topic = await call('PUT', `/admin/topics/${topicId}`, {
    pageId,
    title: unique('Deals '),
    cadence: 'DAILY',
    sendTime: '09:00',
    message: { text: 'Today only' },
  });
  expect(topic.status).toBe(200);
  return { pageId, topicId };
}

/** A person Meta has a token for on the Page (and whom Recurrent may not know). */
function atMeta(pageId: string, topicId: string, psid = unique('6')) {
  sim.addPerson({ pageId, psid });
  const seeded = sim.seedToken({ pageId, psid, topicId, createdAt: NOW - 20 * DAY });
  return { psid, token: seeded.token };
}

/** An opt-in applied through the webhook's own code. */
async function knownHere(pageId: string, topicId: string, psid: string, token: string) {
  const event: SubscriptionEvent = {
    kind: 'optin',
    pageId,
    psid,
    topicId,
    timestamp: NOW - 10 * DAY,
    token,
  };
  await applySubscriptionEvents(
    [event],
    webhookDeps(db.client, db.table, { clock, log }),
    createStatsTally(),
  );
}

async function item(key: Record<string, string>) {
  return (
    await db.client.send(new GetCommand({ TableName: db.table, Key: key, ConsistentRead: true }))
  ).Item;
}

const subscription = (pageId: string, psid: string, topicId: string) =>
  item(keys.subscription({ pageId, psid, topicId }));

beforeAll(async () => {
  [db, queue, sim] = await Promise.all([
    createTestTable('reconcile'),
    createTestQueue('reconcile'),
    startMetaSimulator({ clock, appSecret: 'simulator-secret' }),
  ]);
  const deps = adminDeps(
    { dynamo: db.client, sqs: queue.client },
    { table: db.table, queueUrl: queue.queueUrl, lookbackHours: 6 },
    {
      graph: graphClient({ baseUrl: sim.url, version: 'v24.0' }),
      clock,
      log,
      continuations: { handOver: async () => {} },
    },
  );
  admin = createAdminHandler({ adminToken: ADMIN_TOKEN }, deps);
  tick = createReconcileScheduleHandler(deps);
});

afterAll(async () => {
  await sim.stop();
});

describe("a Page's defaultTopicId", () => {
  it('is a 400 naming the topic when the Page has no such topic, and nothing is written', async () => {
    const { pageId } = await anMmPage();

    const refused = await call('PUT', `/admin/pages/${pageId}`, { defaultTopicId: 'nope' });

    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toMatch(/^defaultTopicId: .*'nope'/);
    expect((await item(keys.page(pageId)))?.defaultTopicId).toBeUndefined();
  });

  it('is stored when the topic exists, shown by the admin API, and removed with null', async () => {
    const { pageId, topicId } = await anMmPage();

    const set = await call('PUT', `/admin/pages/${pageId}`, { defaultTopicId: topicId });
    const kept = await call('PUT', `/admin/pages/${pageId}`, { ratePerSecond: 10 });
    const removed = await call('PUT', `/admin/pages/${pageId}`, { defaultTopicId: null });

    expect(set.body.page.defaultTopicId).toBe(topicId);
    expect(kept.body.page.defaultTopicId).toBe(topicId);
    expect(removed.body.page.defaultTopicId).toBeUndefined();
  });
});

describe('reconcile on the Marketing Message API route', () => {
  it('adds people Meta lists to the default topic, or only counts them without one', async () => {
    const { pageId, topicId } = await anMmPage();
    const stranger = atMeta(pageId, topicId);
    const counted = await call('POST', `/admin/pages/${pageId}/reconcile`);
    await call('PUT', `/admin/pages/${pageId}`, { defaultTopicId: topicId });

    const joined = await call('POST', `/admin/pages/${pageId}/reconcile`);

    expect(counted.body).toMatchObject({ scanned: 1, unknownPeople: 1, joined: 0, added: 0 });
    expect(joined.body).toMatchObject({ scanned: 1, unknownPeople: 0, joined: 1, added: 1 });
    expect(await subscription(pageId, stranger.psid, topicId)).toMatchObject({
      status: 'active',
      token: stranger.token,
      duePk: expect.stringContaining(`DUE#DAILY#${pageId}#${topicId}#`),
    });
    expect(await item(keys.token(stranger.token))).toMatchObject({ pageId, psid: stranger.psid });
  });

  it('asks for one token per person: a person with two tokens is listed once', async () => {
    const { pageId, topicId } = await anMmPage();
    const person = atMeta(pageId, topicId);
    sim.seedToken({ pageId, psid: person.psid, topicId: 'other', createdAt: NOW - DAY });
    await knownHere(pageId, topicId, person.psid, person.token);

    const answer = await call('POST', `/admin/pages/${pageId}/reconcile`);

    expect(answer.body).toMatchObject({ scanned: 1, alreadyKnown: 0, added: 0, complete: true });
  });

  it('stops an active subscription only when two complete lists a day apart miss it', async () => {
    const { pageId, topicId } = await anMmPage();
    const listed = atMeta(pageId, topicId);
    await knownHere(pageId, topicId, listed.psid, listed.token);
    const gone = unique('7');
    await knownHere(pageId, topicId, gone, unique('gone-token-'));

    const first = await call('POST', `/admin/pages/${pageId}/reconcile`);
    const markedAt = (await subscription(pageId, gone, topicId))?.missingSince;
    clock.set(NOW + 2 * HOUR);
    const sameDay = await call('POST', `/admin/pages/${pageId}/reconcile`);
    const afterSameDay = await subscription(pageId, gone, topicId);
    clock.set(NOW + DAY);
    const nextDay = await call('POST', `/admin/pages/${pageId}/reconcile`);
    clock.set(NOW);

    expect(first.body).toMatchObject({ markedMissing: 1, stopped: 0, complete: true });
    expect(markedAt).toBe(NOW);
    expect(sameDay.body).toMatchObject({ markedMissing: 0, stopped: 0 });
    expect(afterSameDay).toMatchObject({ status: 'active', missingSince: NOW });
    expect(nextDay.body).toMatchObject({ stopped: 1 });
    const stopped = await subscription(pageId, gone, topicId);
    expect(stopped).toMatchObject({ status: 'stopped', statusReason: MISSING_REASON });
    expect(stopped?.duePk).toBeUndefined();
    expect(await subscription(pageId, listed.psid, topicId)).toMatchObject({ status: 'active' });
  });

  it('clears the mark of a person Meta lists again', async () => {
    const { pageId, topicId } = await anMmPage();
    const psid = unique('7');
    const token = unique('back-token-');
    await knownHere(pageId, topicId, psid, token);
    await call('POST', `/admin/pages/${pageId}/reconcile`);
    sim.addPerson({ pageId, psid });
    sim.seedToken({ pageId, psid, topicId, token, createdAt: NOW - 20 * DAY });

    await call('POST', `/admin/pages/${pageId}/reconcile`);

    expect((await subscription(pageId, psid, topicId))?.missingSince).toBeUndefined();
  });

  it('changes nothing when Meta refuses the list (2300080) and records when to retry', async () => {
    const { pageId, topicId } = await anMmPage();
    await call('PUT', `/admin/pages/${pageId}`, { defaultTopicId: topicId });
    const stranger = atMeta(pageId, topicId);
    const gone = unique('7');
    await knownHere(pageId, topicId, gone, unique('gone-token-'));
    sim.setTokenListRules(pageId, { readsPerHour: 0 });

    const refused = await call('POST', `/admin/pages/${pageId}/reconcile`);
    sim.setTokenListRules(pageId, undefined);

    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('meta_rate_limited');
    expect(await subscription(pageId, stranger.psid, topicId)).toBeUndefined();
    expect((await subscription(pageId, gone, topicId))?.missingSince).toBeUndefined();
    expect(await item(keys.reconcileState(pageId))).toMatchObject({
      failures: 1,
      lastFailure: 'Meta error 2300080',
      // Meta's remaining_seconds: the whole hour of reads is used up.
      retryAt: NOW + HOUR,
    });
  });

  it('changes nothing when the list is cut short after its first page', async () => {
    const { pageId, topicId } = await anMmPage();
    await call('PUT', `/admin/pages/${pageId}`, { defaultTopicId: topicId });
    const people = Array.from({ length: 1001 }, () => atMeta(pageId, topicId));
    const gone = unique('7');
    await knownHere(pageId, topicId, gone, unique('gone-token-'));
    sim.setTokenListRules(pageId, { cutAfterPages: 1 });

    const cut = await call('POST', `/admin/pages/${pageId}/reconcile`);
    sim.setTokenListRules(pageId, undefined);
    // Later ticks in this file need not add the thousand people.
    await call('PUT', `/admin/pages/${pageId}`, { defaultTopicId: null });

    expect(cut.status).toBe(502);
    expect(cut.body.error.code).toBe('meta_unavailable');
    expect(await subscription(pageId, people[0]?.psid ?? '', topicId)).toBeUndefined();
    expect((await subscription(pageId, gone, topicId))?.missingSince).toBeUndefined();
    expect(await item(keys.reconcileState(pageId))).toMatchObject({
      failures: 1,
      retryAt: NOW + HOUR,
    });
  });
});

describe('erasure tells Meta', () => {
  it("calls the Unsubscribe API for the PSID: Meta stops the person's tokens", async () => {
    const { pageId, topicId } = await anMmPage();
    const person = atMeta(pageId, topicId);
    await knownHere(pageId, topicId, person.psid, person.token);

    const erased = await call('DELETE', `/admin/contacts/${pageId}/${person.psid}`);

    expect(erased.status).toBe(200);
    expect(erased.body).toMatchObject({
      erased: { subscriptions: 1, tokens: 1 },
      meta: { status: 'unsubscribed' },
    });
    expect(sim.tokens(pageId).find((t) => t.psid === person.psid)?.stopped).toBe(true);
    expect(await item(keys.pendingUnsubscribe(pageId, person.psid))).toBeUndefined();
  });

  it('keeps only a pending record when Meta is down, which the next tick retries', async () => {
    const { pageId, topicId } = await anMmPage();
    await call('PUT', `/admin/pages/${pageId}`, { defaultTopicId: topicId });
    const person = atMeta(pageId, topicId);
    await knownHere(pageId, topicId, person.psid, person.token);
    sim.setFaults({ serverErrorRate: 1, routes: ['unsubscribe'] });

    const erased = await call('DELETE', `/admin/contacts/${pageId}/${person.psid}`);
    const pending = await item(keys.pendingUnsubscribe(pageId, person.psid));
    // Meta still lists the person: the reconcile must not bring them back.
    const listed = await call('POST', `/admin/pages/${pageId}/reconcile`);
    sim.setFaults({ serverErrorRate: 0 });
    clock.set(NOW + HOUR);
    const retried = await tick(
      { reconcile: 'daily', scheduledTime: new Date(NOW + HOUR).toISOString() },
      context,
    );
    clock.set(NOW);

    expect(erased.status).toBe(200);
    expect(erased.body.meta).toEqual({
      status: 'pending',
      reason: 'Meta error 2',
      retryAt: new Date(NOW + HOUR).toISOString(),
    });
    expect(Object.keys(pending ?? {}).sort()).toEqual([
      'attempts',
      'erasedAt',
      'expiresAt',
      'lastFailure',
      'nextAttemptAt',
      'pageId',
      'pk',
      'psid',
      'sk',
    ]);
    expect(pending?.expiresAt).toBe(NOW / 1000 + 30 * 86_400);
    expect(listed.body).toMatchObject({ erasurePending: 1, joined: 0 });
    expect(await subscription(pageId, person.psid, topicId)).toBeUndefined();
    expect(retried).toMatchObject({ unsubscribesConfirmed: 1, unsubscribesPending: 0 });
    expect(sim.tokens(pageId).find((t) => t.psid === person.psid)?.stopped).toBe(true);
    expect(await item(keys.pendingUnsubscribe(pageId, person.psid))).toBeUndefined();
    expect(log.lines.some((line) => line.includes(person.psid))).toBe(false);
  });
});

describe('the reconcile tick', () => {
  it('lists each due Page, skips one listed within the day, and goes on past a failed one', async () => {
    const due = await anMmPage();
    const fresh = await anMmPage();
    const failing = await anMmPage();
    for (const page of [due, fresh, failing]) atMeta(page.pageId, page.topicId);
    await call('POST', `/admin/pages/${fresh.pageId}/reconcile`);
    sim.setTokenListRules(failing.pageId, { refuse: { code: 1 } });
    const at = NOW + 2 * HOUR;
    clock.set(at);

    const result = await tick(
      { reconcile: 'daily', scheduledTime: new Date(at).toISOString() },
      context,
    );
    sim.setTokenListRules(failing.pageId, undefined);
    clock.set(NOW);

    expect(result).toMatchObject({ failed: 1, deferred: 0 });
    expect(await item(keys.reconcileState(due.pageId))).toMatchObject({
      lastListedAt: at,
      failures: 0,
    });
    expect(await item(keys.reconcileState(fresh.pageId))).toMatchObject({ lastListedAt: NOW });
    expect(await item(keys.reconcileState(failing.pageId))).toMatchObject({
      failures: 1,
      retryAt: at + HOUR,
    });
  });
});
