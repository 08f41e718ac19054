import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  earliestSendAt,
  effectiveCadence,
  isEligibleInSlot,
  lastSlotThreshold,
  nextDueSlot,
  routeCooldownMs,
  type SlotEligibilityInput,
} from '#lib/domain/cooldown.ts';
import { slotsBetween } from '#lib/domain/slots.ts';

type Subscription = Omit<SlotEligibilityInput, 'slot'>;

const HOUR_MS = 3_600_000;

function aSubscription(overrides: Partial<Subscription> = {}): Subscription {
  return {
    rule: { cadence: 'DAILY', sendTime: '09:00' },
    zone: 'Europe/Paris',
    route: 'send_api',
    pageZone: 'Europe/Paris',
    ...overrides,
  };
}

/** A subscriber in Tokyo of a Page in Los Angeles: their calendars never line up. */
function aTokyoSubscriptionOfLosAngelesPage(overrides: Partial<Subscription> = {}): Subscription {
  return aSubscription({ zone: 'Asia/Tokyo', pageZone: 'America/Los_Angeles', ...overrides });
}

/** An instant written as an ISO local time with its offset, e.g. `2026-03-29T09:00+02:00`. */
function at(iso: string): number {
  const instant = DateTime.fromISO(iso, { setZone: true });
  if (!instant.isValid) {
    throw new Error(`bad test instant ${iso}`);
  }
  return instant.toMillis();
}

function localDay(instant: number, zone: string): string {
  return DateTime.fromMillis(instant, { zone }).toFormat('yyyy-MM-dd');
}

/** Runs the fan-out's slot rule over every slot in a range and returns the slots sent. */
function sentSlots(
  subscription: Subscription,
  fromExclusive: number,
  toInclusive: number,
): number[] {
  const sent: number[] = [];
  for (const slot of slotsBetween(
    subscription.rule,
    subscription.zone,
    fromExclusive,
    toInclusive,
  )) {
    if (isEligibleInSlot({ ...subscription, slot, lastSlot: sent.at(-1) })) {
      sent.push(slot);
    }
  }
  return sent;
}

describe('routeCooldownMs', () => {
  it('allows one send per 48 h on the legacy route and per 12 h on the Marketing Message API', () => {
    expect(routeCooldownMs('send_api')).toBe(48 * HOUR_MS);
    expect(routeCooldownMs('marketing_messages')).toBe(12 * HOUR_MS);
  });
});

describe('isEligibleInSlot', () => {
  it('sends a DAILY topic on the 48 h route every second day, across a DST week', () => {
    const subscription = aSubscription({ route: 'send_api' });

    const sent = sentSlots(
      subscription,
      at('2026-03-25T00:00+01:00'),
      at('2026-04-03T00:00+02:00'),
    );

    expect(sent.map((slot) => localDay(slot, 'Europe/Paris'))).toEqual([
      '2026-03-25',
      '2026-03-27',
      '2026-03-29',
      '2026-03-31',
      '2026-04-02',
    ]);
    expect(at('2026-03-29T09:00+02:00') - at('2026-03-27T09:00+01:00')).toBe(47 * HOUR_MS);
  });

  it('sends a DAILY topic on the 12 h route every day', () => {
    const subscription = aSubscription({ route: 'marketing_messages' });

    const sent = sentSlots(
      subscription,
      at('2026-03-27T00:00+01:00'),
      at('2026-03-31T00:00+02:00'),
    );

    expect(sent.map((slot) => localDay(slot, 'Europe/Paris'))).toEqual([
      '2026-03-27',
      '2026-03-28',
      '2026-03-29',
      '2026-03-30',
    ]);
  });

  it('sends a WEEKLY topic every week on the 48 h route', () => {
    const subscription = aSubscription({ rule: { cadence: 'WEEKLY', sendTime: '09:00' } });

    const sent = sentSlots(
      subscription,
      at('2026-01-01T00:00+01:00'),
      at('2026-01-31T00:00+01:00'),
    );

    expect(sent.map((slot) => localDay(slot, 'Europe/Paris'))).toEqual([
      '2026-01-05',
      '2026-01-12',
      '2026-01-19',
      '2026-01-26',
    ]);
  });

  it('caps a WEEKLY-frequency token at one send per calendar week of the Page zone', () => {
    const subscription = aTokyoSubscriptionOfLosAngelesPage({ frequency: 'WEEKLY' });

    const sent = sentSlots(
      subscription,
      at('2026-01-01T00:00+09:00'),
      at('2026-01-31T00:00+09:00'),
    );

    // 09:00 in Tokyo is 16:00 the day before in Los Angeles, whose week starts on Monday
    // there: the first Tokyo slot of each Los Angeles week is on a Tuesday.
    expect(sent.map((slot) => localDay(slot, 'Asia/Tokyo'))).toEqual([
      '2026-01-01',
      '2026-01-06',
      '2026-01-13',
      '2026-01-20',
      '2026-01-27',
    ]);
  });

  it('caps a MONTHLY-frequency token at one send per calendar month of the Page zone', () => {
    const subscription = aTokyoSubscriptionOfLosAngelesPage({ frequency: 'MONTHLY' });

    const sent = sentSlots(
      subscription,
      at('2025-12-30T00:00+09:00'),
      at('2026-02-28T00:00+09:00'),
    );

    expect(sent.map((slot) => localDay(slot, 'Asia/Tokyo'))).toEqual([
      '2025-12-30',
      '2026-01-02',
      '2026-02-02',
    ]);
  });

  it('puts no calendar cap on a DAILY-frequency token', () => {
    const subscription = aSubscription({ route: 'marketing_messages', frequency: 'DAILY' });

    const sent = sentSlots(
      subscription,
      at('2026-01-01T00:00+01:00'),
      at('2026-01-05T00:00+01:00'),
    );

    expect(sent).toHaveLength(4);
  });

  it('sends a first slot to a subscription that was never sent', () => {
    expect(isEligibleInSlot({ ...aSubscription(), slot: at('2026-01-05T09:00+01:00') })).toBe(true);
  });

  it('never sends a slot that came before the opt-in', () => {
    const slot = at('2026-01-05T09:00+01:00');

    expect(isEligibleInSlot({ ...aSubscription(), slot, activeSince: slot + 1 })).toBe(false);
    expect(isEligibleInSlot({ ...aSubscription(), slot, activeSince: slot })).toBe(true);
  });

  it('never sends a slot at or after the token expiry', () => {
    const slot = at('2026-01-05T09:00+01:00');

    expect(isEligibleInSlot({ ...aSubscription(), slot, tokenExpiresAt: slot })).toBe(false);
    expect(isEligibleInSlot({ ...aSubscription(), slot, tokenExpiresAt: slot + 1 })).toBe(true);
  });
});

describe('lastSlotThreshold', () => {
  it('is the previous slot for a DAILY topic on the 48 h route', () => {
    const threshold = lastSlotThreshold({ ...aSubscription(), slot: at('2026-03-30T09:00+02:00') });

    expect(threshold).toBe(at('2026-03-29T09:00+02:00'));
  });

  it('is the slot itself for a DAILY topic on the 12 h route', () => {
    const slot = at('2026-03-30T09:00+02:00');

    const threshold = lastSlotThreshold({
      ...aSubscription({ route: 'marketing_messages' }),
      slot,
    });

    expect(threshold).toBe(slot);
  });

  it('is the start of the Page-zone week for a WEEKLY-frequency token', () => {
    const subscription = aTokyoSubscriptionOfLosAngelesPage({ frequency: 'WEEKLY' });

    const threshold = lastSlotThreshold({ ...subscription, slot: at('2026-01-07T09:00+09:00') });

    expect(threshold).toBe(at('2026-01-05T00:00-08:00'));
  });

  it('is the start of the Page-zone month for a MONTHLY-frequency token', () => {
    const subscription = aTokyoSubscriptionOfLosAngelesPage({ frequency: 'MONTHLY' });

    const threshold = lastSlotThreshold({ ...subscription, slot: at('2026-04-01T09:00+09:00') });

    expect(threshold).toBe(at('2026-03-01T00:00-08:00'));
  });
});

describe('earliestSendAt', () => {
  const lastSentAt = at('2026-01-06T16:00-08:00');
  const pageZone = 'America/Los_Angeles';

  it('is 0 for a token that was never sent', () => {
    expect(earliestSendAt({ route: 'send_api', pageZone })).toBe(0);
  });

  it('adds the route cooldown in real time', () => {
    expect(earliestSendAt({ lastSentAt, route: 'send_api', pageZone })).toBe(
      lastSentAt + 48 * HOUR_MS,
    );
    expect(earliestSendAt({ lastSentAt, route: 'marketing_messages', pageZone })).toBe(
      lastSentAt + 12 * HOUR_MS,
    );
  });

  it('holds the send after a spring-forward until 48 real hours have passed', () => {
    const fridaySend = at('2026-03-27T09:00+01:00');

    const earliest = earliestSendAt({
      lastSentAt: fridaySend,
      route: 'send_api',
      pageZone: 'Europe/Paris',
    });

    // The Sunday slot is 09:00 local, 47 h later; Meta's 48 h end at 10:00 local.
    expect(earliest).toBe(at('2026-03-29T10:00+02:00'));
  });

  it('waits for the next Page-zone week for a WEEKLY-frequency token', () => {
    expect(earliestSendAt({ lastSentAt, route: 'send_api', frequency: 'WEEKLY', pageZone })).toBe(
      at('2026-01-12T00:00-08:00'),
    );
  });

  it('waits for the next Page-zone month for a MONTHLY-frequency token', () => {
    expect(
      earliestSendAt({ lastSentAt, route: 'marketing_messages', frequency: 'MONTHLY', pageZone }),
    ).toBe(at('2026-02-01T00:00-08:00'));
  });

  it('keeps the route cooldown when it ends after the calendar period does', () => {
    const lateInMonth = at('2026-01-31T20:00-08:00');

    expect(
      earliestSendAt({
        lastSentAt: lateInMonth,
        route: 'send_api',
        frequency: 'MONTHLY',
        pageZone,
      }),
    ).toBe(lateInMonth + 48 * HOUR_MS);
  });
});

describe('effectiveCadence', () => {
  it('explains that a DAILY topic on the legacy route goes out every second day', () => {
    expect(
      effectiveCadence({ rule: { cadence: 'DAILY', sendTime: '09:00' }, route: 'send_api' }),
    ).toEqual({
      slotsPerSend: 2,
      description: 'every 2 days at 09:00: the legacy route allows one send per 48 h',
    });
  });

  it('says every day for a DAILY topic on the Marketing Message API', () => {
    expect(
      effectiveCadence({
        rule: { cadence: 'DAILY', sendTime: '09:00' },
        route: 'marketing_messages',
      }),
    ).toEqual({ slotsPerSend: 1, description: 'every day at 09:00' });
  });

  it('names the weekday of a WEEKLY topic and the day of a MONTHLY one', () => {
    const weekly = effectiveCadence({
      rule: { cadence: 'WEEKLY', sendTime: '09:00' },
      route: 'send_api',
    });
    const monthly = effectiveCadence({
      rule: { cadence: 'MONTHLY', sendTime: '18:30', dayOfMonth: 15 },
      route: 'send_api',
    });

    expect(weekly).toEqual({ slotsPerSend: 1, description: 'every week on Monday at 09:00' });
    expect(monthly).toEqual({ slotsPerSend: 1, description: 'every month on day 15 at 18:30' });
  });

  it('mentions the calendar cap of WEEKLY- and MONTHLY-frequency tokens', () => {
    const rule = { cadence: 'DAILY', sendTime: '09:00' } as const;

    const weekly = effectiveCadence({ rule, route: 'marketing_messages', frequency: 'WEEKLY' });
    const monthly = effectiveCadence({ rule, route: 'marketing_messages', frequency: 'MONTHLY' });

    expect(weekly.description).toContain("once per calendar week in the Page's time zone");
    expect(monthly.description).toContain("once per calendar month in the Page's time zone");
  });
});

describe('nextDueSlot', () => {
  const lastSlot = at('2026-01-05T09:00+01:00');
  const now = at('2026-01-05T12:00+01:00');

  it('is the next slot for a subscription never sent', () => {
    expect(nextDueSlot({ ...aSubscription(), now })).toBe(at('2026-01-06T09:00+01:00'));
  });

  it('is strictly after now', () => {
    expect(nextDueSlot({ ...aSubscription(), now: lastSlot })).toBe(at('2026-01-06T09:00+01:00'));
  });

  it('skips the slots the route cooldown forbids', () => {
    expect(nextDueSlot({ ...aSubscription(), lastSlot, now })).toBe(at('2026-01-07T09:00+01:00'));
    expect(nextDueSlot({ ...aSubscription({ route: 'marketing_messages' }), lastSlot, now })).toBe(
      at('2026-01-06T09:00+01:00'),
    );
  });

  it('waits for the opt-in, a slot at the opt-in instant included', () => {
    const activeSince = at('2026-01-08T09:00+01:00');

    expect(nextDueSlot({ ...aSubscription(), activeSince, now })).toBe(activeSince);
  });

  it('is undefined when the token expires before the next eligible slot', () => {
    const due = at('2026-01-07T09:00+01:00');

    expect(nextDueSlot({ ...aSubscription(), lastSlot, now, tokenExpiresAt: due })).toBeUndefined();
    expect(nextDueSlot({ ...aSubscription(), lastSlot, now, tokenExpiresAt: due + 1 })).toBe(due);
  });

  it('waits for the next Page-zone week for a WEEKLY-frequency token', () => {
    const subscription = aTokyoSubscriptionOfLosAngelesPage({ frequency: 'WEEKLY' });

    const due = nextDueSlot({
      ...subscription,
      lastSlot: at('2026-01-01T09:00+09:00'),
      now: at('2026-01-01T12:00+09:00'),
    });

    expect(due).toBe(at('2026-01-06T09:00+09:00'));
  });
});
