import { describe, expect, it } from 'vitest';
import type { SendStore } from '#lib/domain/sending/ports.ts';
import type { Subscription, SubscriptionKey } from '#lib/domain/subscription.ts';

/** What the contract needs of a SendStore under test: a way to store and read subscriptions. */
export interface SendStoreHarness {
  store: () => SendStore;
  put: (subscription: Subscription) => Promise<void>;
  get: (key: SubscriptionKey) => Promise<Subscription | undefined>;
  /** A key no other test uses. */
  freshKey: () => SubscriptionKey;
}

const SLOT = Date.parse('2026-11-21T08:00:00Z');
/** The slot a claim of `SLOT` must be above: one day before it. */
const THRESHOLD = SLOT - 86_400_000;
const SENT_AT = SLOT + 60_000;

/**
 * The once-per-slot claim and its release, as `SendStore` documents them; the DynamoDB adapter
 * and the in-memory one both run it, so the in-memory one cannot drift from the real condition.
 */
export function describeSendStoreContract(name: string, harness: SendStoreHarness): void {
  const stored = async (fields: Partial<Subscription>) => {
    const subscription: Subscription = {
      ...harness.freshKey(),
      status: 'active',
      token: 'tok',
      timezone: 'Europe/Paris',
      lastEventAt: SLOT - 30 * 86_400_000,
      version: 4,
      ...fields,
    };
    await harness.put(subscription);
    return subscription;
  };

  describe(`${name}: claim`, () => {
    it.each([
      ['claims a slot never claimed before', {}, true],
      ['claims when the last slot is below the threshold', { lastSlot: THRESHOLD - 1 }, true],
      ['refuses when the last slot is at the threshold', { lastSlot: THRESHOLD }, false],
      ['refuses a subscription that is not active', { status: 'stopped' as const }, false],
      [
        'takes up the claim this same message left unfinished on this slot',
        { lastSlot: SLOT, lastSentAt: SENT_AT - 5, claimedBy: 'm1' },
        true,
      ],
      ['refuses the slot another message claimed', { lastSlot: SLOT, claimedBy: 'm0' }, false],
      [
        'refuses a later slot, even one claimed under this same message',
        { lastSlot: SLOT + 86_400_000, claimedBy: 'm1' },
        false,
      ],
    ])('%s', async (_, fields, claimed) => {
      const subscription = await stored(fields);

      const result = await harness.store().claim(subscription, SLOT, THRESHOLD, SENT_AT, 'm1');

      expect(result.claimed).toBe(claimed);
      const after = await harness.get(subscription);
      if (result.claimed) {
        expect(result.before).toMatchObject({ ...fields, version: 4 });
        expect(after).toMatchObject({
          lastSlot: SLOT,
          lastSentAt: SENT_AT,
          claimedBy: 'm1',
          version: 5,
        });
      } else {
        expect(after).toEqual(subscription);
      }
    });

    it('refuses a subscription that is not stored, and stores none', async () => {
      const key = harness.freshKey();

      const result = await harness.store().claim(key, SLOT, THRESHOLD, SENT_AT, 'm1');

      expect(result.claimed).toBe(false);
      expect(await harness.get(key)).toBeUndefined();
    });
  });

  describe(`${name}: release`, () => {
    it('restores the last slot and send time its own claim replaced', async () => {
      const subscription = await stored({ lastSlot: THRESHOLD - 5, lastSentAt: THRESHOLD - 4 });
      const store = harness.store();
      await store.claim(subscription, SLOT, THRESHOLD, SENT_AT, 'm1');

      await store.release(subscription, SLOT, {
        lastSlot: THRESHOLD - 5,
        lastSentAt: THRESHOLD - 4,
      });

      expect(await harness.get(subscription)).toMatchObject({
        lastSlot: THRESHOLD - 5,
        lastSentAt: THRESHOLD - 4,
        version: 6,
      });
    });

    it('leaves no slot when its claim was the first', async () => {
      const subscription = await stored({});
      const store = harness.store();
      await store.claim(subscription, SLOT, THRESHOLD, SENT_AT, 'm1');

      await store.release(subscription, SLOT, {});

      const after = await harness.get(subscription);
      expect(after?.lastSlot).toBeUndefined();
      expect(after?.lastSentAt).toBeUndefined();
    });

    it('leaves a later slot’s claim alone', async () => {
      const later = {
        lastSlot: SLOT + 86_400_000,
        lastSentAt: SENT_AT + 86_400_000,
        claimedBy: 'm2',
      };
      const subscription = await stored(later);

      await harness.store().release(subscription, SLOT, { lastSlot: THRESHOLD - 5 });

      expect(await harness.get(subscription)).toEqual(subscription);
    });
  });
}
