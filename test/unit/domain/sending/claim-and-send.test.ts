import { describe, expect, it } from 'vitest';
import { sendBatch } from '#lib/domain/sending/send-batch.ts';
import { aJob, aRecord, aSubscription, NOW, refused, SLOT, values, world } from './sender-world.ts';

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
      const stored = w.subscription();
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
        const stored = w.subscription();
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
