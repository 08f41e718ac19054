import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { PersonKey } from '#lib/domain/ports.ts';
import {
  type ConversationCounter,
  type ConversationHour,
  hourOf,
} from '#lib/domain/safety/conversation-counts.ts';

/** What the contract needs of a counter and of the store that reads the counts back. */
export interface ConversationHarness {
  counter: () => ConversationCounter;
  /** The person's hours as the sender reads them (`SendStore.readPerson`). */
  hours: (person: PersonKey) => Promise<ConversationHour[] | undefined>;
}

const AT = Date.parse('2026-11-21T08:10:00Z');
const HOUR_MS = 3_600_000;

/**
 * What every `ConversationCounter` does, run against the in-memory port and DynamoDB Local
 * alike, so the benchmark's and the unit tests' counts are the deployed ones.
 */
export function describeConversationCounterContract(name: string, harness: ConversationHarness) {
  const aPerson = (): PersonKey => ({ pageId: '1001', psid: `p-${randomUUID().slice(0, 8)}` });

  describe(`${name}: conversation counts`, () => {
    it('counts organic and marketing conversations per hour, oldest hour first', async () => {
      const person = aPerson();
      const counter = harness.counter();

      await counter.add([
        { ...person, kind: 'organic', at: AT + HOUR_MS, mark: 'm_2' },
        { ...person, kind: 'organic', at: AT, mark: 'm_1' },
        { ...person, kind: 'marketing', at: AT + 60_000, mark: 'track-1' },
      ]);

      expect(await harness.hours(person)).toEqual([
        { hour: hourOf(AT), organic: 1, marketing: 1 },
        { hour: hourOf(AT) + 1, organic: 1, marketing: 0 },
      ]);
    });

    it('counts a mark once a day, in one call or many, and tells organic from marketing marks', async () => {
      const person = aPerson();
      const counter = harness.counter();
      const once = { ...person, kind: 'organic' as const, at: AT, mark: 'm_same' };

      await counter.add([once, once]);
      await counter.add([once]);
      await counter.add([{ ...once, kind: 'marketing' }]);

      expect(await harness.hours(person)).toEqual([{ hour: hourOf(AT), organic: 1, marketing: 1 }]);
    });

    it('reads a person never counted as no hours', async () => {
      expect(await harness.hours(aPerson())).toEqual([]);
    });
  });
}
