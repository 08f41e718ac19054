import { describe, expect, it } from 'vitest';
import { CAMPAIGN_HOLD_MS } from '#lib/domain/sending/retry-policy.ts';
import { sendBatch } from '#lib/domain/sending/send-batch.ts';
import { PAGE_HELD_LOG_MESSAGE } from '#lib/domain/stats.ts';
import { captureLog } from '../../../support/capture-log.ts';
import { storedSubscription } from '../../../support/memory-ports.ts';
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

const DAY_MS = 86_400_000;

describe('sendBatch: claims', () => {
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

  it('sends once when two messages carry the same job in one batch: the second claim is refused', async () => {
    const w = world();

    const outcomes = values(
      await sendBatch([aRecord(aJob(), 1, 'm1'), aRecord(aJob(), 1, 'm2')], w.deps),
    );

    expect(outcomes.map((outcome) => outcome.kind).sort()).toEqual(['sent', 'skipped']);
    expect(outcomes).toContainEqual(expect.objectContaining({ reason: 'already-claimed' }));
    expect(w.sent).toHaveLength(1);
    expect(w.subscription()).toMatchObject({ lastSlot: SLOT, version: 2 });
  });

  it('records its claimant and bumps the version with the claim', async () => {
    const w = world();

    values(await sendBatch([aRecord(aJob(), 1, 'm7')], w.deps));

    expect(w.subscription()).toMatchObject({ lastSlot: SLOT, claimedBy: 'm7', version: 2 });
  });

  it('takes up the claim it left unfinished on this slot and finishes the send', async () => {
    // The first receive of m1 claimed the slot and crashed before Meta answered.
    const w = world({
      subscriptions: [aSubscription({ lastSlot: SLOT, lastSentAt: NOW - 1_000, claimedBy: 'm1' })],
    });

    const [outcome] = values(await sendBatch([aRecord(aJob(), 2, 'm1')], w.deps));

    expect(outcome).toMatchObject({ kind: 'sent', confirmed: true });
    expect(w.sent).toHaveLength(1);
    expect(w.subscription()).toMatchObject({ lastSlot: SLOT, claimedBy: 'm1', version: 2 });
  });

  it.each([
    ['another message claimed this slot', { lastSlot: SLOT, claimedBy: 'm0' }],
    [
      'a later slot was claimed, even under this message',
      { lastSlot: SLOT + DAY_MS, claimedBy: 'm1' },
    ],
    ['the subscription stopped', { status: 'stopped' as const }],
  ])('refuses the claim when, since the batch read it, %s', async (_, change) => {
    const w = world();
    // The batch read the subscription before the change landed.
    const read = w.deps.subscriptions.getMany;
    w.deps.subscriptions.getMany = async (keys) => {
      const found = await read(keys);
      const stored = w.stored();
      if (stored) Object.assign(stored, change);
      return found;
    };

    const [outcome] = values(await sendBatch([aRecord(aJob(), 1, 'm1')], w.deps));

    expect(outcome).toMatchObject({ kind: 'skipped', reason: 'already-claimed' });
    expect(w.sent).toHaveLength(0);
    expect(w.subscription()).toMatchObject({ ...change, version: 1 });
  });

  it('gives back only its own claim: a later claim made meanwhile stays', async () => {
    const w = world({
      answer: () => {
        // Another sender claimed the next slot while this request was out.
        const stored = w.stored();
        if (stored) Object.assign(stored, { lastSlot: SLOT + DAY_MS, claimedBy: 'm9' });
        return refused(1, undefined, 500);
      },
    });

    const [outcome] = values(await sendBatch([aRecord(aJob(), 1, 'm1')], w.deps));

    expect(outcome).toMatchObject({ kind: 'deferred', reason: 'transient' });
    expect(w.subscription()).toMatchObject({ lastSlot: SLOT + DAY_MS, claimedBy: 'm9' });
  });

  it('gives its claim back on a refusal, restoring the last slot and send time before it', async () => {
    const lastSlot = SLOT - 2 * DAY_MS;
    const lastSentAt = lastSlot + 2_000;
    const w = world({
      subscriptions: [aSubscription({ lastSlot, lastSentAt })],
      answer: () => refused(1, undefined, 500),
    });

    values(await sendBatch([aRecord(aJob(), 1, 'm1')], w.deps));

    expect(w.subscription()).toMatchObject({ lastSlot, lastSentAt, version: 3 });
    expect(w.writes()).toEqual([
      { kind: 'claim', psid: 'p1' },
      { kind: 'release', psid: 'p1' },
    ]);
  });
});

describe("sendBatch: Meta's MM states (META_PLATFORM.md section 5)", () => {
  const marketing = aPage({
    deliveryRoute: 'marketing_messages',
    adAccountId: '7',
    campaignId: 'c',
  });
  const topics = [aTopic(), aTopic({ topicId: 'news', title: 'News' })];
  /** One person with two topics on one MM token, one topic on an older token, and someone else. */
  const people = () => [
    aSubscription({ token: 'tok-mm' }),
    aSubscription({ topicId: 'news', token: 'tok-mm' }),
    aSubscription({ topicId: 'old', token: 'tok-old' }),
    aSubscription({ psid: 'p2', token: 'tok-p2' }),
  ];
  const stored = (w: ReturnType<typeof world>, topicId: string, psid = 'p1') =>
    storedSubscription(w.table, { pageId: '1001', psid, topicId });

  it('stops every subscription holding the token on 2300034, and only those', async () => {
    const w = world({
      pages: [marketing],
      topics,
      subscriptions: people(),
      answer: () => refused(100, 2300034),
    });

    const [outcome] = values(await sendBatch([aRecord(aJob())], w.deps));

    expect(outcome).toMatchObject({ kind: 'refused', action: 'stopped' });
    expect(stored(w, 'deals')).toMatchObject({
      status: 'stopped',
      statusReason: expect.stringMatching(/100\/2300034/),
    });
    expect(stored(w, 'news')).toMatchObject({ status: 'stopped' });
    expect(stored(w, 'old')?.status).toBe('active');
    expect(stored(w, 'deals', 'p2')?.status).toBe('active');
  });

  it.each([2300004, 2300037])('marks every holder of a dead token invalid on %i', async (code) => {
    const w = world({
      pages: [marketing],
      topics,
      subscriptions: people(),
      answer: () => refused(code),
    });

    await sendBatch([aRecord(aJob())], w.deps);

    expect([
      stored(w, 'deals')?.status,
      stored(w, 'news')?.status,
      stored(w, 'old')?.status,
    ]).toEqual(['invalid', 'invalid', 'active']);
  });

  it('skips a frequency-capped person for a day on every topic of the token, counting fcap', async () => {
    const w = world({
      pages: [marketing],
      topics,
      subscriptions: people(),
      answer: () => refused(2300042),
    });

    const [capped] = values(await sendBatch([aRecord(aJob())], w.deps));
    w.deps.graph.send = async () => ({ kind: 'accepted' });
    w.clock.set(NOW + 23 * HOUR_MS);
    const [later] = values(
      await sendBatch(
        [aRecord(aJob({ topicId: 'news', scheduledTime: NOW + 23 * HOUR_MS }))],
        w.deps,
      ),
    );

    expect(capped).toMatchObject({ kind: 'skipped', reason: 'frequency-capped' });
    expect(stored(w, 'deals')).toMatchObject({ status: 'active', cappedUntil: NOW + DAY_MS });
    expect(stored(w, 'deals')?.lastSlot).toBeUndefined();
    expect(stored(w, 'news')).toMatchObject({ cappedUntil: NOW + DAY_MS });
    expect(stored(w, 'old')?.cappedUntil).toBeUndefined();
    expect(w.increments[0]).toEqual([
      { pageId: '1001', topicId: 'deals', day: '2026-11-21', counts: { fcap: 1 } },
    ]);
    expect(later).toMatchObject({ kind: 'skipped', reason: 'frequency-capped' });
    expect(w.sent).toHaveLength(1);
  });

  it('sends to a capped person again once the day is over', async () => {
    const w = world({
      pages: [marketing],
      topics,
      subscriptions: [aSubscription({ token: 'tok-mm', cappedUntil: NOW - 1 })],
    });

    const [outcome] = values(await sendBatch([aRecord(aJob())], w.deps));

    expect(outcome).toMatchObject({ kind: 'sent' });
  });

  it('holds the Page on a campaign not ready: the job goes back until then, not failed', async () => {
    const w = world({ pages: [marketing], answer: () => refused(2300002) });
    const log = captureLog();
    w.deps.log = log;

    const [outcome] = values(await sendBatch([aRecord(aJob())], w.deps));

    expect(outcome).toMatchObject({ kind: 'deferred', reason: 'page-held' });
    expect(outcome?.kind === 'deferred' && outcome.delayMs).toBeGreaterThanOrEqual(
      CAMPAIGN_HOLD_MS,
    );
    expect(w.page()).toMatchObject({
      status: 'active',
      heldUntil: NOW + CAMPAIGN_HOLD_MS,
      heldReason: expect.stringMatching(/2300002.*campaign-not-ready/),
    });
    expect(w.subscription()?.lastSlot).toBeUndefined();
    expect(w.increments[0]?.[0]?.counts).toEqual({ deferred: 1 });
    expect(log.entries).toContainEqual(
      expect.objectContaining({ level: 'error', message: PAGE_HELD_LOG_MESSAGE, pageId: '1001' }),
    );
  });

  it('puts a held Page’s jobs back without calling Meta, and sends after the hold', async () => {
    const held = { ...marketing, heldUntil: NOW + 600_000, heldReason: 'budget' };
    const w = world({ pages: [held] });

    const [waiting] = values(await sendBatch([aRecord(aJob())], w.deps));
    w.clock.set(NOW + 600_000);
    const [sent] = values(
      await sendBatch([aRecord(aJob({ scheduledTime: NOW + 600_000 }))], w.deps),
    );

    expect(waiting).toMatchObject({ kind: 'deferred', reason: 'page-held', delayMs: 600_000 });
    expect(sent).toMatchObject({ kind: 'sent' });
    expect(w.sent).toHaveLength(1);
  });

  it('never shortens a hold: a later budget hold stays over a shorter one', async () => {
    const w = world({
      pages: [{ ...marketing, heldUntil: NOW + 2 * DAY_MS, heldReason: 'earlier' }],
    });

    await w.deps.sends.holdPage('1001', NOW + HOUR_MS, 'later but shorter');

    expect(w.page()).toMatchObject({ heldUntil: NOW + 2 * DAY_MS, heldReason: 'earlier' });
  });

  it.each([
    [2300052, 'conversation-gap'],
    [2300036, 'conversation-gap'],
    [1893047, 'conversation-gap'],
    [2300031, 'region'],
  ] as const)(
    'skips the slot on %i (%s), keeping the subscription active',
    async (code, reason) => {
      const w = world({ pages: [marketing], answer: () => refused(code) });

      const [outcome] = values(await sendBatch([aRecord(aJob())], w.deps));

      expect(outcome).toMatchObject({
        kind: 'skipped',
        reason,
        detail: expect.stringContaining(String(code)),
      });
      expect(w.subscription()).toMatchObject({ status: 'active' });
      expect(w.subscription()?.lastSlot).toBeUndefined();
    },
  );

  it('pauses the Page with the reason on an onboarding error', async () => {
    const w = world({ pages: [marketing], answer: () => refused(2300013) });

    const [outcome] = values(await sendBatch([aRecord(aJob())], w.deps));

    expect(outcome).toMatchObject({ kind: 'refused', action: 'page-paused' });
    expect(w.page()).toMatchObject({
      status: 'paused',
      pausedReason: expect.stringMatching(/onboarding/),
    });
  });

  it('fails a job to the DLQ with the reason when Meta finds the message invalid', async () => {
    const w = world({ pages: [marketing], answer: () => refused(2300038) });

    const [result] = await sendBatch([aRecord(aJob())], w.deps);

    expect(result).toMatchObject({
      status: 'rejected',
      reason: expect.objectContaining({
        message: expect.stringMatching(/2300038.*message-invalid/),
      }),
    });
    expect(w.subscription()).toMatchObject({ status: 'active' });
  });

  it('logs an unknown error raw, Meta’s message too, and never the token', async () => {
    const w = world({
      pages: [marketing],
      answer: () => ({
        kind: 'refused',
        status: 400,
        error: {
          code: 2300099,
          type: 'OAuthException',
          message: 'Something new',
          fbtraceId: 'trace',
        },
      }),
    });
    const log = captureLog();
    w.deps.log = log;

    const [result] = await sendBatch([aRecord(aJob())], w.deps);

    expect(result?.status).toBe('rejected');
    expect(log.entries).toContainEqual(
      expect.objectContaining({
        message: 'meta refused a send',
        outcome: 'unknown',
        code: 2300099,
        type: 'OAuthException',
        metaMessage: 'Something new',
        fbtraceId: 'trace',
      }),
    );
    expect(log.lines.join('\n')).not.toContain('tok-p1');
  });
});
