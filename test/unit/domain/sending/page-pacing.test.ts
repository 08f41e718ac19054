import { describe, expect, it } from 'vitest';
import { RETAKE_LEAD_MS, SENT_AT_MARGIN_MS } from '#lib/domain/sending/page-pacing.ts';
import type { TokenGrant } from '#lib/domain/sending/ports.ts';
import { intervalMs, PACING_MARGIN } from '#lib/domain/sending/rate-bucket.ts';
import { sendBatch } from '#lib/domain/sending/send-batch.ts';
import { isRetried } from '#lib/domain/sending/send-outcome.ts';
import { captureLog } from '../../../support/capture-log.ts';
import { aJob, aPage, aRecord, aSubscription, NOW, values, world } from './sender-world.ts';

describe('sendBatch: pacing', () => {
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
    expect(w.takes).toEqual([{ pageId: '1001', tokens: 3, ratePerSecond: 20 * PACING_MARGIN }]);
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
      // The event loop stalls once, past the margin the claims recorded.
      if (!stalled) {
        stalled = true;
        w.clock.set(w.clock.now() + SENT_AT_MARGIN_MS + 200);
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
    // The late one's claim keeps the time its request truly left, for the next cooldown.
    const late = w.sent[1];
    expect(w.subscription('p1')?.lastSentAt).toBe(Number(late?.at) + SENT_AT_MARGIN_MS);
  });

  it('records the fresh token’s time in the person’s budget too, on the Marketing Message route', async () => {
    const w = world({
      pages: [aPage({ deliveryRoute: 'marketing_messages', adAccountId: '88', campaignId: '77' })],
    });
    const claim = w.deps.sends.claim;
    let slow = true;
    w.deps.sends.claim = async (...args) => {
      // A stall of 3 s between the first claim and its request.
      if (slow) w.clock.set(w.clock.now() + 3_000);
      slow = false;
      return claim(...args);
    };

    const [outcome] = values(await sendBatch([aRecord(aJob())], w.deps));

    expect(outcome).toMatchObject({ kind: 'sent' });
    const leftAt = Number(w.sent[0]?.at);
    expect(leftAt).toBeGreaterThanOrEqual(NOW + 3_000);
    expect(w.subscription()?.lastSentAt).toBe(leftAt + SENT_AT_MARGIN_MS);
    expect([...w.table.budgets.values()].map((budget) => budget.sentAt)).toEqual([
      leftAt + SENT_AT_MARGIN_MS,
    ]);
  });

  it('takes fresh tokens for a burst whose claims came back too late to leave on time', async () => {
    const LATE = SENT_AT_MARGIN_MS + 100;
    const w = world();
    const claim = w.deps.sends.claim;
    let slow = true;
    w.deps.sends.claim = async (...args) => {
      // The first claim's answer comes back later than its recorded margin; the re-recorded
      // send time does not.
      if (slow) w.clock.set(w.clock.now() + LATE);
      slow = false;
      return claim(...args);
    };

    const [outcome] = values(await sendBatch([aRecord(aJob())], w.deps));

    expect(outcome).toMatchObject({ kind: 'sent' });
    expect(w.takes).toHaveLength(2);
    // The fresh token is taken a little ahead, so the re-recorded time is written before it.
    expect(w.sent[0]?.at).toBe(NOW + LATE + RETAKE_LEAD_MS);
    expect(w.subscription()?.lastSentAt).toBe(NOW + LATE + RETAKE_LEAD_MS + SENT_AT_MARGIN_MS);
  });

  it('paces a Page stored above Meta’s 40/s ceiling at 40/s, warning once per batch', async () => {
    const subscriptions = Array.from({ length: 15 }, (_, i) =>
      aSubscription({ psid: `p${i}`, token: `t${i}` }),
    );
    const w = world({ pages: [aPage({ ratePerSecond: 300 })], subscriptions });
    const log = captureLog();
    w.deps.log = log;

    const outcomes = values(
      await sendBatch(
        subscriptions.map((s, i) => aRecord(aJob({ psid: s.psid }), 1, `m${i}`)),
        w.deps,
      ),
    );

    expect(outcomes.every((outcome) => outcome.kind === 'sent')).toBe(true);
    expect(w.takes.map((take) => take.ratePerSecond)).toEqual([
      40 * PACING_MARGIN,
      40 * PACING_MARGIN,
    ]);
    expect(log.entries.filter((entry) => entry.level === 'warn')).toEqual([
      {
        level: 'warn',
        message: 'page rate over Meta per-Page ceiling',
        pageId: '1001',
        ratePerSecond: 300,
        sendingAt: 40,
      },
    ]);
  });
});
