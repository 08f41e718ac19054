import { describe, expect, it } from 'vitest';
import { routeCooldownMs } from '#lib/domain/cooldown.ts';
import { hourOf } from '#lib/domain/safety/stop-spike.ts';
import { judgeJob } from '#lib/domain/sending/judge-job.ts';
import { DEFAULT_SENDER_OPTIONS } from '#lib/domain/sending/ports.ts';
import { sendBatch } from '#lib/domain/sending/send-batch.ts';
import { memoryTopicSafety } from '../../../support/memory-ports.ts';
import {
  aJob,
  aPage,
  aRecord,
  aSubscription,
  aTopic,
  HOUR_MS,
  NOW,
  refused,
  SLOT,
  values,
  world,
} from './sender-world.ts';

describe('sendBatch: cooldown in real time', () => {
  it('waits in-process for a cooldown that ends within the max wait, never sending early', async () => {
    const lastSentAt = NOW - routeCooldownMs('send_api') + 400;
    const w = world({
      subscriptions: [aSubscription({ lastSlot: SLOT - 2 * 86_400_000, lastSentAt })],
    });

    values(await sendBatch([aRecord(aJob())], w.deps));

    expect(w.sent).toHaveLength(1);
    expect(w.sent[0]?.at).toBe(lastSentAt + routeCooldownMs('send_api'));
  });

  it('defers a job by exactly the cooldown still to run, and counts it as deferred', async () => {
    const lastSentAt = NOW - routeCooldownMs('send_api') + 2_300;
    const w = world({
      subscriptions: [aSubscription({ lastSlot: SLOT - 2 * 86_400_000, lastSentAt })],
    });

    const [outcome] = values(await sendBatch([aRecord(aJob())], w.deps));

    expect(outcome).toMatchObject({ kind: 'deferred', reason: 'cooldown', delayMs: 2_300 });
    expect(w.deferred).toEqual([{ handle: 'handle-m1', delayMs: 2_300 }]);
    expect(w.sent).toHaveLength(0);
    expect(w.increments[0]?.[0]?.counts).toEqual({ deferred: 1 });
  });

  it('skips, without taking tokens, a job whose last slot is within the cooldown', async () => {
    // Legacy route, DAILY topic: a send yesterday means no send today.
    const w = world({ subscriptions: [aSubscription({ lastSlot: SLOT - 86_400_000 })] });

    const [outcome] = values(await sendBatch([aRecord(aJob())], w.deps));

    expect(outcome).toMatchObject({ kind: 'skipped', reason: 'already-claimed' });
    expect(w.takes).toHaveLength(0);
  });
});

describe('judgeJob', () => {
  const found = { page: aPage(), topic: aTopic(), subscription: aSubscription() };
  const options = DEFAULT_SENDER_OPTIONS;

  it('fails a job whose Page is not registered, so it ends in the DLQ with its reason', () => {
    expect(judgeJob(aJob(), { ...found, page: undefined }, NOW, options)).toEqual({
      kind: 'fail',
      reason: 'Page 1001 is not registered',
    });
  });

  it.each([
    ['stale', aJob({ scheduledTime: NOW - 6 * HOUR_MS - 1 }), found],
    ['page-paused', aJob(), { ...found, page: aPage({ status: 'paused' }) }],
    ['topic-missing', aJob(), { ...found, topic: undefined }],
    ['subscription-missing', aJob(), { ...found, subscription: undefined }],
    [
      'subscription-inactive',
      aJob(),
      { ...found, subscription: aSubscription({ status: 'stopped' }) },
    ],
    ['no-token', aJob(), { ...found, subscription: aSubscription({ token: undefined }) }],
    [
      'activated-after-slot',
      aJob(),
      { ...found, subscription: aSubscription({ activeSince: SLOT + 1 }) },
    ],
    ['token-expired', aJob(), { ...found, subscription: aSubscription({ tokenExpiresAt: SLOT }) }],
  ] as const)('skips with reason %s', (reason, job, state) => {
    expect(judgeJob(job, state, NOW, options)).toMatchObject({ kind: 'skip', reason });
  });

  it('keeps a job scheduled exactly at the staleness limit', () => {
    const verdict = judgeJob(aJob({ scheduledTime: NOW - 6 * HOUR_MS }), found, NOW, options);

    expect(verdict.kind).toBe('send');
  });

  it('pauses a Page on the Marketing Message API without an ad account or campaign', () => {
    const page = aPage({ deliveryRoute: 'marketing_messages', adAccountId: '77' });

    expect(judgeJob(aJob(), { ...found, page }, NOW, options)).toMatchObject({
      kind: 'pause-page',
    });
  });
});

describe('sendBatch: the stop-spike breaker', () => {
  const paused = {
    at: NOW - HOUR_MS,
    reason: "7 stops and blocks over 200 sends in 24 h (3.5 %), above the topic's 3 %",
    sends: 200,
    stops: 7,
    ratePercent: 3.5,
    thresholdPercent: 3,
  };
  const people = ['p1', 'p2', 'p3'];
  const subscriptions = people.map((psid) => aSubscription({ psid, token: `tok-${psid}` }));
  const jobs = people.map((psid, index) => aRecord(aJob({ psid }), 1, `m${index}`));

  it('skips a paused topic’s job with the reason that paused it, sending nothing', async () => {
    const w = world({ topics: [aTopic({ paused })] });

    const [outcome] = values(await sendBatch([aRecord(aJob())], w.deps));

    expect(outcome).toMatchObject({
      kind: 'skipped',
      reason: 'topic-paused',
      detail: paused.reason,
    });
    expect(w.sent).toHaveLength(0);
  });

  it('counts each request and each stop or block Meta answered, on the topic’s hour', async () => {
    const w = world({
      subscriptions,
      answer: (request) =>
        request.token === 'tok-p2' ? refused(10, 1893015) : { kind: 'accepted', messageId: 'm' },
    });
    const safety = memoryTopicSafety(w.table);

    values(await sendBatch(jobs, { ...w.deps, safety }));

    expect([...safety.buckets.values()]).toEqual([{ hour: hourOf(NOW), sends: 3, stops: 1 }]);
  });

  it('pauses the topic when the batch takes its stops above the threshold', async () => {
    const w = world({ subscriptions, answer: () => refused(551) });
    const safety = memoryTopicSafety(w.table);
    await safety.add(hourOf(NOW), [{ pageId: '1001', topicId: 'deals', sends: 197, stops: 4 }]);

    values(await sendBatch(jobs, { ...w.deps, safety }));

    expect(w.table.topics.get('1001#deals')?.paused).toMatchObject({ sends: 200, stops: 7 });
  });
});

describe('judgeJob: quiet hours', () => {
  const options = DEFAULT_SENDER_OPTIONS;
  // 09:00:30 UTC is 01:00 in Los Angeles: a late job there would reach the person at night.
  const lateThere = aSubscription({ timezone: 'America/Los_Angeles' });

  it('skips a send that would reach the person inside 21:00-08:00 their time', () => {
    const found = { page: aPage(), topic: aTopic(), subscription: lateThere };

    expect(judgeJob(aJob(), found, NOW, options)).toEqual({
      kind: 'skip',
      reason: 'quiet-hours',
      detail: '21:00-08:00 in America/Los_Angeles',
    });
  });

  it('sends when the topic’s own quiet hours allow it, over the Page’s', () => {
    const topic = aTopic({ quietHours: { start: '02:00', end: '06:00' } });
    const page = aPage({ quietHours: { start: '00:00', end: '08:00' } });

    expect(judgeJob(aJob(), { page, topic, subscription: lateThere }, NOW, options).kind).toBe(
      'send',
    );
  });

  it('skips a job whose cooldown would hold it until the quiet hours', () => {
    // Paris, 10:00:30: Meta's 48 h cooldown ends at 22:00, inside the quiet hours.
    const lastSentAt = NOW - 48 * HOUR_MS + 12 * HOUR_MS;
    const subscription = aSubscription({ lastSlot: SLOT - 4 * 86_400_000, lastSentAt });

    expect(
      judgeJob(aJob(), { page: aPage(), topic: aTopic(), subscription }, NOW, options),
    ).toMatchObject({ kind: 'skip', reason: 'quiet-hours' });
  });
});
