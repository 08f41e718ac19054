import { describe, expect, it } from 'vitest';
import { sendBatch } from '#lib/domain/sending/send-batch.ts';
import { aJob, aRecord, NOW, values, world } from './sender-world.ts';

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
});
