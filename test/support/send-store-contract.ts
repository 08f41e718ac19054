import { describe, expect, it } from 'vitest';
import type { StoredClaims } from '#lib/aws/claim-attributes.ts';
import { isUnfinishedClaim } from '#lib/domain/sending/judge-job.ts';
import type { PersonBudget } from '#lib/domain/sending/person-budget.ts';
import type { SendStore } from '#lib/domain/sending/ports.ts';
import type { Subscription, SubscriptionKey } from '#lib/domain/subscription.ts';

/** What the contract needs of a SendStore under test: a way to store and read subscriptions. */
export interface SendStoreHarness {
  store: () => SendStore;
  /** Stores an item as given: a subscription, and for the claim contract the raw claim pairs. */
  put: (subscription: Subscription & StoredClaims) => Promise<void>;
  get: (key: SubscriptionKey) => Promise<Subscription | undefined>;
  /** A key no other test uses. */
  freshKey: () => SubscriptionKey;
}

/** The claim contract's harness: it also reads the claim attributes as stored. */
export interface ClaimStoreHarness extends SendStoreHarness {
  /** `lastSlot`/`lastSentAt` (what the `due` index projects) and the pair it does not. */
  claims: (key: SubscriptionKey) => Promise<StoredClaims>;
}

/** The claim attributes of a stored item, for `ClaimStoreHarness.claims`. */
export function claimsOf(item: { [K in keyof StoredClaims]?: unknown } | undefined): StoredClaims {
  const fields = ['lastSlot', 'lastSentAt', 'claimedSlot', 'claimedSentAt'] as const;
  return Object.fromEntries(
    fields.flatMap((field) => (typeof item?.[field] === 'number' ? [[field, item[field]]] : [])),
  );
}

const SLOT = Date.parse('2026-11-21T08:00:00Z');
/** The slot a claim of `SLOT` must be above: one day before it. */
const THRESHOLD = SLOT - 86_400_000;
const SENT_AT = SLOT + 60_000;

/**
 * The once-per-slot claim and its release, as `SendStore` documents them; the DynamoDB adapter
 * and the in-memory one both run it, so the in-memory one cannot drift from the real condition.
 */
export function describeSendStoreContract(name: string, harness: ClaimStoreHarness): void {
  const stored = async (fields: Partial<Subscription & StoredClaims>) => {
    const subscription: Subscription & StoredClaims = {
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

      const result = await harness
        .store()
        .claim(subscription, SLOT, THRESHOLD, SENT_AT, 'm1', 'send_api');

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

      const result = await harness.store().claim(key, SLOT, THRESHOLD, SENT_AT, 'm1', 'send_api');

      expect(result.claimed).toBe(false);
      expect(await harness.get(key)).toBeUndefined();
    });
  });

  describe(`${name}: release`, () => {
    it('restores the last slot and send time its own claim replaced', async () => {
      const subscription = await stored({ lastSlot: THRESHOLD - 5, lastSentAt: THRESHOLD - 4 });
      const store = harness.store();
      await store.claim(subscription, SLOT, THRESHOLD, SENT_AT, 'm1', 'send_api');

      await store.release(
        subscription,
        SLOT,
        { lastSlot: THRESHOLD - 5, lastSentAt: THRESHOLD - 4 },
        'send_api',
      );

      expect(await harness.get(subscription)).toMatchObject({
        lastSlot: THRESHOLD - 5,
        lastSentAt: THRESHOLD - 4,
        version: 6,
      });
    });

    it('leaves no slot when its claim was the first', async () => {
      const subscription = await stored({});
      const store = harness.store();
      await store.claim(subscription, SLOT, THRESHOLD, SENT_AT, 'm1', 'send_api');

      await store.release(subscription, SLOT, {}, 'send_api');

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

      await harness.store().release(subscription, SLOT, { lastSlot: THRESHOLD - 5 }, 'send_api');

      expect(await harness.get(subscription)).toEqual(subscription);
    });
  });

  describeMarketingClaims(name, harness, stored);
}

const DAY_MS = 86_400_000;
/** A send time of a legacy-era claim, well before `THRESHOLD`. */
const OLD_SENT_AT = THRESHOLD - 3 * DAY_MS;

/**
 * The Marketing Message route's claim: the same once-per-slot rule over both pairs, written to
 * the pair the `due` index does not project, which is never the legacy one.
 */
function describeMarketingClaims(
  name: string,
  harness: ClaimStoreHarness,
  stored: (fields: Partial<Subscription & StoredClaims>) => Promise<Subscription>,
): void {
  const mm = 'marketing_messages' as const;

  describe(`${name}: claim on the Marketing Message route`, () => {
    it.each<[string, Partial<Subscription & StoredClaims>, boolean]>([
      ['claims a slot never claimed before', {}, true],
      [
        'claims over a legacy-era send below the threshold, leaving its pair as it was',
        { lastSlot: THRESHOLD - 1, lastSentAt: OLD_SENT_AT },
        true,
      ],
      ['refuses over a legacy-era send at the threshold', { lastSlot: THRESHOLD }, false],
      [
        'claims when its last claim is below the threshold',
        { claimedSlot: THRESHOLD - 1, claimedSentAt: THRESHOLD, lastSlot: THRESHOLD - 9 },
        true,
      ],
      [
        'refuses when its last claim is at the threshold, older legacy send or not',
        { claimedSlot: THRESHOLD, lastSlot: THRESHOLD - 9 },
        false,
      ],
      [
        'refuses when the legacy pair is the newer one and at the threshold',
        { claimedSlot: THRESHOLD - 9, lastSlot: THRESHOLD },
        false,
      ],
      [
        'takes up the claim this same message left unfinished on this slot',
        { claimedSlot: SLOT, claimedSentAt: SENT_AT - 5, claimedBy: 'm1', lastSlot: THRESHOLD - 9 },
        true,
      ],
      [
        'takes up a claim this message left on the legacy pair (the Page changed route)',
        { lastSlot: SLOT, lastSentAt: SENT_AT - 5, claimedBy: 'm1' },
        true,
      ],
      ['refuses the slot another message claimed', { claimedSlot: SLOT, claimedBy: 'm0' }, false],
      [
        'refuses its own slot when a later slot was claimed on the other pair',
        { claimedSlot: SLOT, claimedBy: 'm1', lastSlot: SLOT + DAY_MS },
        false,
      ],
    ])('%s', async (_, fields, claimed) => {
      const subscription = await stored(fields);
      const claimsBefore = await harness.claims(subscription);
      const viewBefore = await harness.get(subscription);

      const result = await harness.store().claim(subscription, SLOT, THRESHOLD, SENT_AT, 'm1', mm);

      expect(result.claimed).toBe(claimed);
      const claimsAfter = await harness.claims(subscription);
      if (result.claimed) {
        expect(result.before).toEqual(viewBefore);
        // The projected pair is never written: the `due` index does not move.
        expect(claimsAfter).toEqual({
          ...claimsBefore,
          claimedSlot: SLOT,
          claimedSentAt: SENT_AT,
        });
        expect(await harness.get(subscription)).toMatchObject({
          lastSlot: SLOT,
          lastSentAt: SENT_AT,
          claimedBy: 'm1',
          version: 5,
        });
      } else {
        expect(claimsAfter).toEqual(claimsBefore);
        expect(await harness.get(subscription)).toEqual(viewBefore);
      }
    });

    it('reads an item holding only the legacy pair as it always did', async () => {
      const subscription = await stored({ lastSlot: THRESHOLD - 1, lastSentAt: OLD_SENT_AT });

      expect(await harness.get(subscription)).toMatchObject({
        lastSlot: THRESHOLD - 1,
        lastSentAt: OLD_SENT_AT,
      });
    });

    it('lets the message that claimed take it up again after a crash, with a later send time, and no other', async () => {
      const subscription = await stored({ lastSlot: THRESHOLD - 1, lastSentAt: OLD_SENT_AT });
      const store = harness.store();
      await store.claim(subscription, SLOT, THRESHOLD, SENT_AT, 'm1', mm);

      const other = await store.claim(subscription, SLOT, THRESHOLD, SENT_AT + 9, 'm2', mm);
      const again = await store.claim(subscription, SLOT, THRESHOLD, SENT_AT + 50, 'm1', mm);

      expect(other.claimed).toBe(false);
      expect(again.claimed && isUnfinishedClaim(again.before, SLOT, 'm1')).toBe(true);
      expect(await harness.get(subscription)).toMatchObject({
        lastSlot: SLOT,
        lastSentAt: SENT_AT + 50,
      });
      expect(await harness.claims(subscription)).toEqual({
        lastSlot: THRESHOLD - 1,
        lastSentAt: OLD_SENT_AT,
        claimedSlot: SLOT,
        claimedSentAt: SENT_AT + 50,
      });
    });

    it('is refused to a legacy claim while its own pair holds the slot', async () => {
      const subscription = await stored({});
      const store = harness.store();
      await store.claim(subscription, SLOT, THRESHOLD, SENT_AT, 'm1', mm);

      const legacy = await store.claim(subscription, SLOT, THRESHOLD, SENT_AT, 'm2', 'send_api');

      expect(legacy.claimed).toBe(false);
    });
  });

  describe(`${name}: release on the Marketing Message route`, () => {
    it('restores exactly the pair its own claim replaced', async () => {
      const fields = {
        claimedSlot: THRESHOLD - 5,
        claimedSentAt: THRESHOLD - 4,
        lastSlot: THRESHOLD - 3 * DAY_MS,
        lastSentAt: OLD_SENT_AT,
      };
      const subscription = await stored(fields);
      const store = harness.store();
      const claim = await store.claim(subscription, SLOT, THRESHOLD, SENT_AT, 'm1', mm);
      if (!claim.claimed) throw new Error('not claimed');

      await store.release(subscription, SLOT, claim.before, mm);

      expect(await harness.claims(subscription)).toEqual(fields);
      expect(await harness.get(subscription)).toMatchObject({
        lastSlot: THRESHOLD - 5,
        lastSentAt: THRESHOLD - 4,
        version: 6,
      });
    });

    it('reads as the legacy-era send again when its claim was the first on this route', async () => {
      const subscription = await stored({ lastSlot: THRESHOLD - 1, lastSentAt: OLD_SENT_AT });
      const store = harness.store();
      const claim = await store.claim(subscription, SLOT, THRESHOLD, SENT_AT, 'm1', mm);
      if (!claim.claimed) throw new Error('not claimed');

      await store.release(subscription, SLOT, claim.before, mm);

      expect(await harness.get(subscription)).toMatchObject({
        lastSlot: THRESHOLD - 1,
        lastSentAt: OLD_SENT_AT,
      });
      expect(await harness.claims(subscription)).toMatchObject({
        lastSlot: THRESHOLD - 1,
        lastSentAt: OLD_SENT_AT,
      });
      // Claimable again in this slot, by the next receive.
      const next = await store.claim(subscription, SLOT, THRESHOLD, SENT_AT, 'm2', mm);
      expect(next.claimed).toBe(true);
    });

    it('leaves no claim when its claim was the first ever', async () => {
      const subscription = await stored({});
      const store = harness.store();
      await store.claim(subscription, SLOT, THRESHOLD, SENT_AT, 'm1', mm);

      await store.release(subscription, SLOT, {}, mm);

      expect(await harness.claims(subscription)).toEqual({});
    });

    it('leaves a later slot’s claim alone', async () => {
      const later = {
        claimedSlot: SLOT + DAY_MS,
        claimedSentAt: SENT_AT + DAY_MS,
        claimedBy: 'm2',
      };
      const subscription = await stored(later);

      await harness.store().release(subscription, SLOT, { lastSlot: THRESHOLD - 5 }, mm);

      expect(await harness.claims(subscription)).toEqual({
        claimedSlot: SLOT + DAY_MS,
        claimedSentAt: SENT_AT + DAY_MS,
      });
      expect(await harness.get(subscription)).toMatchObject({ version: 4 });
    });
  });

  describe(`${name}: claim on the legacy route beside a Marketing Message pair`, () => {
    it('writes only the projected pair, and refuses a slot the other pair holds', async () => {
      const subscription = await stored({ claimedSlot: THRESHOLD - 2, claimedSentAt: THRESHOLD });
      const store = harness.store();

      const claimed = await store.claim(subscription, SLOT, THRESHOLD, SENT_AT, 'm1', 'send_api');
      const refused = await harness
        .store()
        .claim(
          await stored({ claimedSlot: THRESHOLD }),
          SLOT,
          THRESHOLD,
          SENT_AT,
          'm1',
          'send_api',
        );

      expect(claimed.claimed).toBe(true);
      expect(refused.claimed).toBe(false);
      expect(await harness.claims(subscription)).toEqual({
        lastSlot: SLOT,
        lastSentAt: SENT_AT,
        claimedSlot: THRESHOLD - 2,
        claimedSentAt: THRESHOLD,
      });
    });
  });
}

/** A budget spent on the `deals` slot `SLOT` by message `m1`, unless told otherwise. */
function aBudget(fields: Partial<PersonBudget> = {}): PersonBudget {
  return { sentAt: SENT_AT, slot: SLOT, topicId: 'deals', claimedBy: 'm1', ...fields };
}

/**
 * The person budget as `SendStore` documents it (one Marketing Message per token per 12 h,
 * spent by one conditional write), run against both adapters like the claim above.
 */
export function describePersonBudgetContract(name: string, harness: SendStoreHarness): void {
  /** A person with one subscription holding `token`, stored; their key. */
  const aPerson = async (token = 'tok') => {
    const key = harness.freshKey();
    await harness.put({
      ...key,
      status: 'active',
      token,
      timezone: 'Europe/Paris',
      lastEventAt: SLOT - 30 * 86_400_000,
      version: 1,
    });
    return { pageId: key.pageId, psid: key.psid };
  };
  const HALF_DAY = 12 * 3_600_000;

  describe(`${name}: person budget`, () => {
    it('spends a budget never spent, and reads it back under its token', async () => {
      const person = await aPerson();
      const store = harness.store();

      const result = await store.claimBudget(person, 'tok', aBudget(), SENT_AT - HALF_DAY);

      expect(result).toEqual({ claimed: true });
      const read = await store.readPerson(person);
      expect(read.budgets).toEqual([{ token: 'tok', budget: aBudget() }]);
      expect(read.subscriptions.map((item) => item.token)).toEqual(['tok']);
    });

    it('lets only one of many concurrent claims on different topics spend it', async () => {
      const person = await aPerson();
      const store = harness.store();

      const results = await Promise.all(
        ['a', 'b', 'c', 'd'].map((topicId, index) =>
          store.claimBudget(
            person,
            'tok',
            aBudget({ topicId, claimedBy: `m${index}` }),
            SENT_AT - HALF_DAY,
          ),
        ),
      );

      const winners = results.filter((result) => result.claimed);
      expect(winners).toHaveLength(1);
      const [budget] = (await store.readPerson(person)).budgets;
      for (const result of results) {
        if (!result.claimed) expect(result.current).toEqual(budget?.budget);
      }
    });

    it.each([
      ['refuses a budget spent less than 12 h before, naming who has it', 1, false],
      ['spends a budget spent exactly 12 h before', 0, true],
    ])('%s', async (_, lateMs, claimed) => {
      const person = await aPerson();
      const store = harness.store();
      const earlier = aBudget({ topicId: 'weekly', sentAt: SENT_AT - HALF_DAY + lateMs });
      await store.claimBudget(person, 'tok', earlier, earlier.sentAt - HALF_DAY);

      const result = await store.claimBudget(person, 'tok', aBudget(), SENT_AT - HALF_DAY);

      expect(result).toEqual(
        claimed ? { claimed: true, before: earlier } : { claimed: false, current: earlier },
      );
    });

    it('lets the same message take up its own claim on the same slot and topic, only', async () => {
      const person = await aPerson();
      const store = harness.store();
      await store.claimBudget(person, 'tok', aBudget(), SENT_AT - HALF_DAY);

      const again = await store.claimBudget(
        person,
        'tok',
        aBudget({ sentAt: SENT_AT + 5 }),
        SENT_AT + 5 - HALF_DAY,
      );
      const otherTopic = await store.claimBudget(
        person,
        'tok',
        aBudget({ topicId: 'weekly' }),
        SENT_AT - HALF_DAY,
      );

      expect(again).toEqual({ claimed: true, before: aBudget() });
      expect(otherTopic.claimed).toBe(false);
    });

    it('keeps one budget per token: another token of the person is not spent', async () => {
      const person = await aPerson('tok');
      const store = harness.store();
      await store.claimBudget(person, 'tok', aBudget(), SENT_AT - HALF_DAY);

      const other = await store.claimBudget(
        person,
        'legacy-tok',
        aBudget({ topicId: 'weekly' }),
        SENT_AT - HALF_DAY,
      );

      expect(other.claimed).toBe(true);
    });

    it('gives a budget back to what it was, or to none, and then it can be spent again', async () => {
      const person = await aPerson();
      const store = harness.store();
      const earlier = aBudget({ topicId: 'weekly', sentAt: SENT_AT - 2 * HALF_DAY });
      await store.claimBudget(person, 'tok', earlier, 0);
      await store.claimBudget(person, 'tok', aBudget(), SENT_AT - HALF_DAY);

      await store.releaseBudget(person, 'tok', aBudget(), earlier);
      const restored = (await store.readPerson(person)).budgets;
      await store.releaseBudget(person, 'tok', earlier, undefined);
      const none = (await store.readPerson(person)).budgets;
      const spentAgain = await store.claimBudget(
        person,
        'tok',
        aBudget({ topicId: 'monthly' }),
        SENT_AT - HALF_DAY,
      );

      expect(restored).toEqual([{ token: 'tok', budget: earlier }]);
      expect(none).toEqual([]);
      expect(spentAgain).toEqual({ claimed: true });
    });

    it('leaves a budget another send holds alone when asked to give back its own', async () => {
      const person = await aPerson();
      const store = harness.store();
      const theirs = aBudget({ topicId: 'weekly', claimedBy: 'm9' });
      await store.claimBudget(person, 'tok', theirs, SENT_AT - HALF_DAY);

      await store.releaseBudget(person, 'tok', aBudget(), undefined);

      expect((await store.readPerson(person)).budgets).toEqual([{ token: 'tok', budget: theirs }]);
    });
  });
}
