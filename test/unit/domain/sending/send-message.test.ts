import { describe, expect, it } from 'vitest';
import { fixedClock } from '#lib/clock.ts';
import { routeCooldownMs } from '#lib/domain/cooldown.ts';
import type { Page } from '#lib/domain/page.ts';
import type { StatsIncrement } from '#lib/domain/ports.ts';
import type { SendJob } from '#lib/domain/send-job.ts';
import { judgeJob } from '#lib/domain/sending/judge-job.ts';
import { SENT_AT_MARGIN_MS } from '#lib/domain/sending/page-pacing.ts';
import {
  DEFAULT_SENDER_OPTIONS,
  type GraphSendRequest,
  type GraphSendResult,
  type RateLimiter,
  type SenderDeps,
  type TokenGrant,
} from '#lib/domain/sending/ports.ts';
import {
  applyTake,
  type BucketState,
  intervalMs,
  PACING_MARGIN,
  planTake,
  tokenTimesAfterTake,
} from '#lib/domain/sending/rate-bucket.ts';
import { BOUNDARY_RETRY_MS, RATE_LIMIT_HOLD_MS } from '#lib/domain/sending/retry-policy.ts';
import { sendBatch } from '#lib/domain/sending/send-batch.ts';
import {
  isRetried,
  PoisonJobError,
  SendFailedError,
  type SendOutcome,
  type SendRecord,
} from '#lib/domain/sending/send-outcome.ts';
import { slotAtOrBefore } from '#lib/domain/slots.ts';
import { type Subscription, subscriptionId } from '#lib/domain/subscription.ts';
import type { Topic } from '#lib/domain/topic.ts';
import { silentLog } from '#lib/log.ts';

const HOUR_MS = 3_600_000;
const NOW = Date.parse('2026-11-21T09:00:30Z');
const RULE = { cadence: 'DAILY', sendTime: '10:00' } as const;
const ZONE = 'Europe/Paris';
const SLOT = slotAtOrBefore(RULE, ZONE, NOW);

function aPage(overrides: Partial<Page> = {}): Page {
  return {
    pageId: '1001',
    accessToken: 'page-token',
    deliveryRoute: 'send_api',
    ratePerSecond: 20,
    timezone: ZONE,
    status: 'active',
    ...overrides,
  };
}

function aTopic(overrides: Partial<Topic> = {}): Topic {
  return {
    pageId: '1001',
    topicId: 'deals',
    title: 'Deals',
    ...RULE,
    message: { text: 'hi' },
    ...overrides,
  };
}

function aSubscription(overrides: Partial<Subscription> = {}): Subscription {
  return {
    pageId: '1001',
    psid: 'p1',
    topicId: 'deals',
    status: 'active',
    token: 'tok-p1',
    timezone: ZONE,
    lastEventAt: NOW - 30 * 24 * HOUR_MS,
    activeSince: NOW - 30 * 24 * HOUR_MS,
    version: 1,
    ...overrides,
  };
}

function aJob(overrides: Partial<SendJob> = {}): SendJob {
  return {
    pageId: '1001',
    psid: 'p1',
    topicId: 'deals',
    slot: SLOT,
    scheduledTime: NOW,
    ...overrides,
  };
}

function aRecord(job: SendJob | string, receiveCount = 1, id = 'm1'): SendRecord {
  return {
    id,
    body: typeof job === 'string' ? job : JSON.stringify(job),
    receiveCount,
    handle: `handle-${id}`,
  };
}

/** In-memory ports with the same semantics as the DynamoDB and SQS adapters. */
function world(
  options: {
    pages?: Page[];
    topics?: Topic[];
    subscriptions?: Subscription[];
    answer?: (request: GraphSendRequest) => GraphSendResult;
    rate?: RateLimiter;
  } = {},
) {
  const clock = fixedClock(NOW);
  const pages = new Map((options.pages ?? [aPage()]).map((page) => [page.pageId, page]));
  const topics = new Map(
    (options.topics ?? [aTopic()]).map((topic) => [`${topic.pageId}#${topic.topicId}`, topic]),
  );
  const subscriptions = new Map(
    (options.subscriptions ?? [aSubscription()]).map((item) => [subscriptionId(item), { ...item }]),
  );
  const sent: { request: GraphSendRequest; at: number }[] = [];
  const deferred: { handle: string; delayMs: number }[] = [];
  const increments: StatsIncrement[][] = [];
  const takes: { pageId: string; tokens: number }[] = [];
  const writes: { kind: string; psid: string }[] = [];
  const pressures: unknown[] = [];
  let bucket: BucketState = {};
  const deps: SenderDeps = {
    subscriptions: {
      getMany: async (keys) =>
        keys.flatMap((key) => {
          const item = subscriptions.get(subscriptionId(key));
          return item ? [{ ...item }] : [];
        }),
      markStatus: async (key, status, reason) => {
        const item = subscriptions.get(subscriptionId(key));
        if (item) Object.assign(item, { status, statusReason: reason });
      },
    },
    catalog: {
      getPage: async (pageId) => pages.get(pageId),
      getTopic: async (pageId, topicId) => topics.get(`${pageId}#${topicId}`),
    },
    sends: {
      claim: async (key, slot, threshold, sentAt) => {
        writes.push({ kind: 'claim', psid: key.psid });
        const item = subscriptions.get(subscriptionId(key));
        if (item?.status !== 'active') return { claimed: false };
        if (item.lastSlot !== undefined && item.lastSlot >= threshold) return { claimed: false };
        const before = { ...item };
        Object.assign(item, { lastSlot: slot, lastSentAt: sentAt });
        return { claimed: true, before };
      },
      release: async (key, slot, previous) => {
        writes.push({ kind: 'release', psid: key.psid });
        const item = subscriptions.get(subscriptionId(key));
        if (item?.lastSlot !== slot) return;
        delete item.lastSlot;
        delete item.lastSentAt;
        Object.assign(item, previous);
      },
      pausePage: async (pageId, reason) => {
        const page = pages.get(pageId);
        if (page) Object.assign(page, { status: 'paused', pausedReason: reason });
      },
    },
    rate: options.rate ?? {
      take: async (request) => {
        takes.push({ pageId: request.pageId, tokens: request.tokens });
        const take = { ...request, burst: DEFAULT_SENDER_OPTIONS.burst };
        const plan = planTake(bucket, take);
        if (plan.kind === 'refuse') {
          return { granted: false, reason: plan.reason, retryAt: plan.retryAt };
        }
        bucket = applyTake(bucket, plan, request.now) ?? bucket;
        return {
          granted: true,
          ...tokenTimesAfterTake(bucket.tat ?? request.now, plan, request.tokens),
        };
      },
      applyPressure: async (pageId, pressure) => {
        pressures.push({ pageId, ...pressure });
      },
    },
    queue: {
      defer: async (entries) => {
        deferred.push(...entries);
      },
    },
    graph: {
      send: async (request) => {
        sent.push({ request, at: clock.now() });
        return options.answer?.(request) ?? { kind: 'accepted', messageId: `m_${sent.length}` };
      },
    },
    stats: {
      add: async (batch) => {
        increments.push([...batch]);
      },
    },
    clock,
    sleep: virtualSleep(clock),
    random: () => 0,
    log: silentLog,
  };
  return {
    deps,
    clock,
    sent,
    deferred,
    increments,
    takes,
    writes,
    pressures,
    subscription: (psid = 'p1') =>
      subscriptions.get(subscriptionId({ pageId: '1001', psid, topicId: 'deals' })),
    page: (pageId = '1001') => pages.get(pageId),
  };
}

function values(results: PromiseSettledResult<SendOutcome>[]): SendOutcome[] {
  return results.map((result) => {
    if (result.status === 'rejected') throw result.reason;
    return result.value;
  });
}

const refused = (code: number, subcode?: number, status = 400): GraphSendResult => ({
  kind: 'refused',
  status,
  error: { code, ...(subcode !== undefined && { subcode }), fbtraceId: 'trace' },
});

describe('sendBatch: sending', () => {
  it('sends an eligible job and records the send, its id and the counter', async () => {
    const w = world();

    const [outcome] = values(await sendBatch([aRecord(aJob())], w.deps));

    expect(outcome).toMatchObject({ kind: 'sent', confirmed: true, messageId: 'm_1' });
    expect(w.sent[0]?.request).toEqual({
      route: 'send_api',
      pageId: '1001',
      accessToken: 'page-token',
      token: 'tok-p1',
      message: { text: 'hi' },
    });
    expect(w.subscription()).toMatchObject({
      lastSlot: SLOT,
      lastSentAt: NOW + SENT_AT_MARGIN_MS,
    });
    expect(w.increments).toEqual([
      [{ pageId: '1001', topicId: 'deals', day: '2026-11-21', counts: { sent: 1 } }],
    ]);
  });

  it('takes the tokens of a whole batch for one Page in one take, and counts once per batch', async () => {
    const subscriptions = ['a', 'b', 'c'].map((psid) =>
      aSubscription({ psid, token: `tok-${psid}` }),
    );
    const w = world({ subscriptions });

    const outcomes = values(
      await sendBatch(
        subscriptions.map((s, i) => aRecord(aJob({ psid: s.psid }), 1, `m${i}`)),
        w.deps,
      ),
    );

    expect(outcomes.map((o) => o.kind)).toEqual(['sent', 'sent', 'sent']);
    expect(w.takes).toEqual([{ pageId: '1001', tokens: 3 }]);
    expect(w.increments).toHaveLength(1);
    expect(w.increments[0]?.[0]?.counts).toEqual({ sent: 3 });
  });

  it('sends each request at its own token’s time, the next batch after the first', async () => {
    const subscriptions = Array.from({ length: 20 }, (_, i) =>
      aSubscription({ psid: `p${i}`, token: `t${i}` }),
    );
    const w = world({ subscriptions });

    await sendBatch(
      subscriptions.slice(0, 10).map((s) => aRecord(aJob({ psid: s.psid }))),
      w.deps,
    );
    await sendBatch(
      subscriptions.slice(10).map((s) => aRecord(aJob({ psid: s.psid }))),
      w.deps,
    );

    // 20 per second (less the pacing margin): one request per token, never two at once.
    const interval = intervalMs(20 * PACING_MARGIN);
    expect(w.sent.map((s) => Math.round(s.at))).toEqual(
      Array.from({ length: 20 }, (_, i) => Math.round(NOW + i * interval)),
    );
    expect(interval).toBeGreaterThan(50);
  });

  it('puts a Page’s jobs back, unclaimed, when no tokens come free soon', async () => {
    const w = world({
      rate: {
        take: async () => ({ granted: false, reason: 'rate', retryAt: NOW + 2_500 }),
        applyPressure: async () => {},
      },
    });

    const results = await sendBatch([aRecord(aJob())], w.deps);

    const [outcome] = values(results);
    expect(outcome).toMatchObject({ kind: 'deferred', reason: 'rate' });
    expect(outcome && isRetried(outcome)).toBe(true);
    expect(w.deferred).toEqual([{ handle: 'handle-m1', delayMs: 2_500 }]);
    expect(w.subscription()?.lastSlot).toBeUndefined();
    expect(w.sent).toHaveLength(0);
  });

  it('waits once for tokens that a refusal says come free within the max wait', async () => {
    const answers: TokenGrant[] = [
      { granted: false, reason: 'rate', retryAt: NOW + 400 },
      { granted: true, sendAt: NOW + 900, spacingMs: 50 },
    ];
    const w = world({
      rate: {
        take: async () => answers.shift() ?? { granted: false, reason: 'rate', retryAt: NOW },
        applyPressure: async () => {},
      },
    });

    const [outcome] = values(await sendBatch([aRecord(aJob())], w.deps));

    expect(outcome).toMatchObject({ kind: 'sent' });
    expect(w.sent[0]?.at).toBe(NOW + 900);
    expect(w.deferred).toEqual([]);
  });

  it('takes a fresh token for a request that would leave late, rather than crowd a later second', async () => {
    const subscriptions = ['p0', 'p1'].map((psid) => aSubscription({ psid, token: `t-${psid}` }));
    const w = world({ subscriptions });
    const sleep = w.deps.sleep;
    let stalled = false;
    w.deps.sleep = async (ms) => {
      await sleep(ms);
      // The event loop stalls once, 200 ms past the second request's token time.
      if (!stalled) {
        stalled = true;
        w.clock.set(w.clock.now() + 200);
      }
    };

    const outcomes = values(
      await sendBatch(
        subscriptions.map((s) => aRecord(aJob({ psid: s.psid }))),
        w.deps,
      ),
    );

    expect(outcomes).toMatchObject([{ kind: 'sent' }, { kind: 'sent' }]);
    expect(w.takes.map((take) => take.tokens)).toEqual([2, 1]);
  });

  it('takes fresh tokens for a burst whose claims came back too late to leave on time', async () => {
    const w = world();
    const claim = w.deps.sends.claim;
    w.deps.sends.claim = async (...args) => {
      w.clock.set(w.clock.now() + 100);
      return claim(...args);
    };

    const [outcome] = values(await sendBatch([aRecord(aJob())], w.deps));

    expect(outcome).toMatchObject({ kind: 'sent' });
    expect(w.takes).toHaveLength(2);
    expect(w.sent[0]?.at).toBe(NOW + 100);
  });

  it('defers, releasing its claim, a job whose last send the claim found to be more recent', async () => {
    const w = world();
    const claim = w.deps.sends.claim;
    w.deps.sends.claim = async (...args) => {
      const result = await claim(...args);
      // Another sender's send landed between the read and the claim.
      return result.claimed
        ? { claimed: true, before: { ...result.before, lastSentAt: NOW - 1_000 } }
        : result;
    };

    const [outcome] = values(await sendBatch([aRecord(aJob())], w.deps));

    expect(outcome).toMatchObject({ kind: 'deferred', reason: 'cooldown' });
    expect(w.sent).toHaveLength(0);
    expect(w.subscription()?.lastSlot).toBeUndefined();
  });

  it('sends over the Marketing Message API with the campaign of the Page', async () => {
    const w = world({
      pages: [aPage({ deliveryRoute: 'marketing_messages', adAccountId: '77', campaignId: 'c9' })],
    });

    await sendBatch([aRecord(aJob())], w.deps);

    expect(w.sent[0]?.request).toMatchObject({
      route: 'marketing_messages',
      adAccountId: '77',
      campaignId: 'c9',
      token: 'tok-p1',
    });
  });
});

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

describe('sendBatch: Meta refusals', () => {
  it('retries a token cooldown from the next eligible time Meta gives', async () => {
    const w = world({
      answer: () => ({
        kind: 'refused',
        status: 400,
        error: { code: 4, subcode: 2018354, nextEligibleAt: NOW + 90_000 },
      }),
    });

    const [outcome] = values(await sendBatch([aRecord(aJob())], w.deps));

    expect(outcome).toMatchObject({ kind: 'deferred', reason: 'meta-cooldown', delayMs: 90_000 });
    expect(w.subscription()?.lastSlot).toBeUndefined();
  });

  it('retries shortly when Meta finds a send early that by our record was on time', async () => {
    const w = world({
      subscriptions: [aSubscription({ lastSentAt: NOW - routeCooldownMs('send_api') })],
      answer: () => refused(4, 2018354),
    });

    const [outcome] = values(await sendBatch([aRecord(aJob())], w.deps));

    expect(outcome).toMatchObject({
      kind: 'deferred',
      reason: 'meta-cooldown',
      delayMs: BOUNDARY_RETRY_MS,
    });
    expect(w.subscription()?.lastSentAt).toBe(NOW - routeCooldownMs('send_api'));
  });

  it('retries a token cooldown after the route cooldown when Meta gives no time', async () => {
    const w = world({
      pages: [aPage({ deliveryRoute: 'marketing_messages', adAccountId: '7', campaignId: 'c' })],
      answer: () => refused(2300052),
    });

    const [outcome] = values(await sendBatch([aRecord(aJob())], w.deps));

    expect(outcome).toMatchObject({
      kind: 'deferred',
      delayMs: routeCooldownMs('marketing_messages'),
    });
  });

  it('stops the Page for a while on a rate limit that names no time', async () => {
    const w = world({ answer: () => refused(613) });

    const [outcome] = values(await sendBatch([aRecord(aJob())], w.deps));

    expect(outcome).toMatchObject({ kind: 'deferred', reason: 'meta-rate-limited' });
    expect(w.pressures).toEqual([
      { pageId: '1001', kind: 'stop', until: NOW + RATE_LIMIT_HOLD_MS },
    ]);
  });

  it.each([
    [10, 1893015, 'stopped'],
    [100, undefined, 'invalid'],
    [551, undefined, 'unreachable'],
  ] as const)(
    'marks the subscription on %i/%s as %s and releases its claim',
    async (code, subcode, status) => {
      const w = world({ answer: () => refused(code, subcode) });

      const [outcome] = values(await sendBatch([aRecord(aJob())], w.deps));

      expect(outcome).toMatchObject({ kind: 'refused', action: status });
      expect(w.subscription()?.status).toBe(status);
      expect(w.subscription()?.lastSlot).toBeUndefined();
    },
  );

  it('pauses the Page on a Page-level error and acknowledges the job', async () => {
    const w = world({ answer: () => refused(190) });

    const [outcome] = values(await sendBatch([aRecord(aJob())], w.deps));

    expect(outcome).toMatchObject({ kind: 'refused', action: 'page-paused' });
    expect(w.page()).toMatchObject({
      status: 'paused',
      pausedReason: expect.stringContaining('trace'),
    });
  });

  it('backs off transient errors longer with every receive, then fails the record', async () => {
    const delays: number[] = [];
    for (const receiveCount of [1, 2, 3, 4]) {
      const w = world({ answer: () => refused(1, undefined, 500) });
      const [outcome] = values(await sendBatch([aRecord(aJob(), receiveCount)], w.deps));
      if (outcome?.kind === 'deferred') delays.push(outcome.delayMs);
    }
    const last = world({ answer: () => refused(1, undefined, 500) });

    const [result] = await sendBatch([aRecord(aJob(), 5)], last.deps);

    expect(delays).toEqual([3_750, 7_500, 15_000, 30_000]);
    expect(result).toMatchObject({ status: 'rejected', reason: expect.any(SendFailedError) });
    expect(last.subscription()?.lastSlot).toBeUndefined();
  });

  it('counts a request that left without an answer as sent, and one that never left as transient', async () => {
    const left = world({
      answer: () => ({ kind: 'unanswered', requestLeft: true, cause: 'TimeoutError' }),
    });
    const notLeft = world({
      answer: () => ({ kind: 'unanswered', requestLeft: false, cause: 'ECONNREFUSED' }),
    });

    const [sent] = values(await sendBatch([aRecord(aJob())], left.deps));
    const [retried] = values(await sendBatch([aRecord(aJob())], notLeft.deps));

    expect(sent).toMatchObject({ kind: 'sent', confirmed: false });
    expect(left.subscription()).toMatchObject({
      lastSlot: SLOT,
      lastSentAt: NOW + SENT_AT_MARGIN_MS,
    });
    expect(retried).toMatchObject({ kind: 'deferred', reason: 'transient' });
    expect(notLeft.subscription()?.lastSlot).toBeUndefined();
  });
});

describe('sendBatch: bad input and failures', () => {
  it('rejects a poison job and still sends the rest of the batch', async () => {
    const w = world();

    const results = await sendBatch(
      [aRecord('{"pageId":1}', 1, 'bad'), aRecord(aJob(), 1, 'good')],
      w.deps,
    );

    expect(results[0]).toMatchObject({ status: 'rejected', reason: expect.any(PoisonJobError) });
    expect(results[1]).toMatchObject({ status: 'fulfilled', value: { kind: 'sent' } });
  });

  it('rejects every job when the batch cannot be loaded, having sent nothing', async () => {
    const w = world();
    w.deps.subscriptions.getMany = async () => {
      throw new Error('DynamoDB is down');
    };

    const results = await sendBatch(
      [aRecord(aJob(), 1, 'a'), aRecord(aJob({ psid: 'p2' }), 1, 'b')],
      w.deps,
    );

    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(w.sent).toHaveLength(0);
  });

  it('writes once per send: the claim records the slot and the send time', async () => {
    const w = world();

    const [outcome] = values(await sendBatch([aRecord(aJob())], w.deps));

    expect(outcome).toMatchObject({ kind: 'sent' });
    expect(w.writes).toEqual([{ kind: 'claim', psid: 'p1' }]);
  });
});

/**
 * Sleeps on the fixed clock: sleepers wake one at a time, earliest first, each moving the
 * clock to its own wake-up time, as concurrent timers would.
 */
function virtualSleep(clock: ReturnType<typeof fixedClock>) {
  const sleepers: { until: number; wake: () => void }[] = [];
  const wakeNext = () => {
    sleepers.sort((a, b) => a.until - b.until);
    const next = sleepers.shift();
    if (!next) return;
    clock.set(Math.max(clock.now(), next.until));
    next.wake();
    if (sleepers.length > 0) setImmediate(wakeNext);
  };
  return (ms: number) =>
    new Promise<void>((resolve) => {
      sleepers.push({ until: clock.now() + ms, wake: resolve });
      if (sleepers.length === 1) setImmediate(wakeNext);
    });
}
