import { describe, expect, it } from 'vitest';
import { routeCooldownMs } from '#lib/domain/cooldown.ts';
import { SENT_AT_MARGIN_MS } from '#lib/domain/sending/page-pacing.ts';
import { BOUNDARY_RETRY_MS, RATE_LIMIT_HOLD_MS } from '#lib/domain/sending/retry-policy.ts';
import { sendBatch } from '#lib/domain/sending/send-batch.ts';
import { SendFailedError } from '#lib/domain/sending/send-outcome.ts';
import {
  aJob,
  aPage,
  aRecord,
  aSubscription,
  NOW,
  refused,
  SLOT,
  values,
  world,
} from './sender-world.ts';

describe('sendBatch: request shapes', () => {
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
