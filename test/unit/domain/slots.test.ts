import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  InvalidSlotRuleError,
  instantAtLocal,
  isValidZone,
  nextSlotAfter,
  parseSendTime,
  parseSlotRule,
  type SlotRule,
  slotAtOrBefore,
  slotsBefore,
  slotsBetween,
} from '#lib/domain/slots.ts';

function aRule(overrides: Partial<SlotRule> = {}): SlotRule {
  return { cadence: 'DAILY', sendTime: '09:00', ...overrides };
}

/** An instant written as an ISO local time with its offset, e.g. `2026-03-29T03:00+02:00`. */
function at(iso: string): number {
  const instant = DateTime.fromISO(iso, { setZone: true });
  if (!instant.isValid) {
    throw new Error(`bad test instant ${iso}`);
  }
  return instant.toMillis();
}

function localTimes(slots: number[], zone: string): string[] {
  return slots.map((slot) => DateTime.fromMillis(slot, { zone }).toFormat('yyyy-MM-dd HH:mm ZZ'));
}

const HOUR_MS = 3_600_000;

function hoursBetween(slots: number[]): number[] {
  return slots.slice(1).map((slot, i) => (slot - (slots[i] ?? slot)) / HOUR_MS);
}

describe('slotsBetween', () => {
  it.each([
    ['UTC', '+00:00'],
    ['Europe/Paris', '+01:00'],
    ['America/New_York', '-05:00'],
    ['Asia/Kolkata', '+05:30'],
    ['Asia/Kathmandu', '+05:45'],
    ['Australia/Sydney', '+11:00'],
  ])('lays a DAILY slot at the local send time every day in %s', (zone, offset) => {
    const from = at(`2026-01-05T00:00${offset}`);

    const slots = slotsBetween(aRule(), zone, from, from + 3 * 24 * HOUR_MS);

    expect(slots).toEqual([
      at(`2026-01-05T09:00${offset}`),
      at(`2026-01-06T09:00${offset}`),
      at(`2026-01-07T09:00${offset}`),
    ]);
  });

  it.each([
    ['UTC', '+00:00'],
    ['Europe/Paris', '+01:00'],
    ['America/New_York', '-05:00'],
    ['Asia/Kolkata', '+05:30'],
    ['Asia/Kathmandu', '+05:45'],
    ['Australia/Sydney', '+11:00'],
  ])('lays a WEEKLY slot on the rule weekday in %s', (zone, offset) => {
    const rule = aRule({ cadence: 'WEEKLY', weekday: 3, sendTime: '18:30' });

    const slots = slotsBetween(
      rule,
      zone,
      at(`2026-01-01T00:00${offset}`),
      at('2026-01-22T00:00Z'),
    );

    expect(slots).toEqual([
      at(`2026-01-07T18:30${offset}`),
      at(`2026-01-14T18:30${offset}`),
      at(`2026-01-21T18:30${offset}`),
    ]);
  });

  it('puts WEEKLY slots on Monday when the rule names no weekday', () => {
    const slots = slotsBetween(
      aRule({ cadence: 'WEEKLY' }),
      'UTC',
      at('2026-01-01T00:00Z'),
      at('2026-01-13T00:00Z'),
    );

    expect(localTimes(slots, 'UTC')).toEqual([
      '2026-01-05 09:00 +00:00',
      '2026-01-12 09:00 +00:00',
    ]);
  });

  it.each([
    ['UTC', '+00:00'],
    ['Europe/Paris', '+01:00'],
    ['America/New_York', '-05:00'],
    ['Asia/Kolkata', '+05:30'],
    ['Asia/Kathmandu', '+05:45'],
    ['Australia/Sydney', '+11:00'],
  ])('lays a MONTHLY slot on the rule day of month in %s, February included', (zone, offset) => {
    const rule = aRule({ cadence: 'MONTHLY', dayOfMonth: 28 });

    const slots = slotsBetween(
      rule,
      zone,
      at(`2026-01-01T00:00${offset}`),
      at('2026-03-01T00:00Z'),
    );

    expect(slots).toEqual([at(`2026-01-28T09:00${offset}`), at(`2026-02-28T09:00${offset}`)]);
  });

  it('puts MONTHLY slots on the 1st when the rule names no day', () => {
    const slots = slotsBetween(
      aRule({ cadence: 'MONTHLY' }),
      'Asia/Kathmandu',
      at('2026-01-15T00:00Z'),
      at('2026-03-15T00:00Z'),
    );

    expect(localTimes(slots, 'Asia/Kathmandu')).toEqual([
      '2026-02-01 09:00 +05:45',
      '2026-03-01 09:00 +05:45',
    ]);
  });

  it('keeps 09:00 local across a spring-forward and a fall-back', () => {
    const zone = 'Europe/Paris';

    const spring = slotsBetween(aRule(), zone, at('2026-03-28T00:00Z'), at('2026-03-31T00:00Z'));
    const autumn = slotsBetween(aRule(), zone, at('2026-10-24T00:00Z'), at('2026-10-27T00:00Z'));

    expect(localTimes(spring, zone)).toEqual([
      '2026-03-28 09:00 +01:00',
      '2026-03-29 09:00 +02:00',
      '2026-03-30 09:00 +02:00',
    ]);
    expect(localTimes(autumn, zone)).toEqual([
      '2026-10-24 09:00 +02:00',
      '2026-10-25 09:00 +01:00',
      '2026-10-26 09:00 +01:00',
    ]);
    expect(hoursBetween(spring)).toEqual([23, 24]);
    expect(hoursBetween(autumn)).toEqual([25, 24]);
  });

  it.each([
    ['Europe/Paris', '2026-03-29', '02:30', '2026-03-29 03:00 +02:00'],
    ['America/New_York', '2026-03-08', '02:30', '2026-03-08 03:00 -04:00'],
    ['Australia/Sydney', '2026-10-04', '02:59', '2026-10-04 03:00 +11:00'],
    ['Australia/Lord_Howe', '2026-10-04', '02:15', '2026-10-04 02:30 +11:00'],
    ['Pacific/Chatham', '2026-09-27', '02:50', '2026-09-27 03:45 +13:45'],
  ])(
    'moves a send time skipped by DST in %s to the next valid minute',
    (zone, day, sendTime, expected) => {
      const from = DateTime.fromISO(day, { zone }).toMillis();

      const slots = slotsBetween(aRule({ sendTime }), zone, from, from + 20 * HOUR_MS);

      expect(localTimes(slots, zone)).toEqual([expected]);
    },
  );

  it.each([
    ['Europe/Paris', '2026-10-25', '02:30', '2026-10-25T00:30Z'],
    ['America/New_York', '2026-11-01', '01:30', '2026-11-01T05:30Z'],
    ['Australia/Lord_Howe', '2026-04-05', '01:45', '2026-04-04T14:45Z'],
  ])(
    'sends a time repeated by DST in %s once, at its first occurrence',
    (zone, day, sendTime, expected) => {
      const from = DateTime.fromISO(day, { zone }).toMillis();

      const slots = slotsBetween(aRule({ sendTime }), zone, from, from + 20 * HOUR_MS);

      expect(slots).toEqual([at(expected)]);
    },
  );

  it('leaves out a slot equal to the exclusive start and keeps one equal to the inclusive end', () => {
    const first = at('2026-01-05T09:00Z');
    const third = at('2026-01-07T09:00Z');

    const slots = slotsBetween(aRule(), 'UTC', first, third);

    expect(slots).toEqual([at('2026-01-06T09:00Z'), third]);
  });

  it('returns no slot when the range is empty or reversed', () => {
    const slot = at('2026-01-05T09:00Z');

    expect(slotsBetween(aRule(), 'UTC', slot, slot)).toEqual([]);
    expect(slotsBetween(aRule(), 'UTC', slot + 1, slot - 1)).toEqual([]);
    expect(slotsBetween(aRule(), 'UTC', slot, slot + 24 * HOUR_MS - 1)).toEqual([]);
  });

  it('rejects an unknown time zone', () => {
    expect(() => slotsBetween(aRule(), 'Mars/Olympus_Mons', 0, 1)).toThrow(InvalidSlotRuleError);
  });
});

describe('nextSlotAfter', () => {
  it('returns the next slot when called exactly on a slot', () => {
    expect(nextSlotAfter(aRule(), 'Asia/Kolkata', at('2026-01-05T09:00+05:30'))).toBe(
      at('2026-01-06T09:00+05:30'),
    );
  });

  it('returns the coming slot when called just before it', () => {
    expect(nextSlotAfter(aRule(), 'Asia/Kolkata', at('2026-01-05T08:59+05:30'))).toBe(
      at('2026-01-05T09:00+05:30'),
    );
  });

  it('crosses a month end for a MONTHLY rule', () => {
    const rule = aRule({ cadence: 'MONTHLY', dayOfMonth: 5 });

    expect(nextSlotAfter(rule, 'America/New_York', at('2026-01-05T09:00-05:00'))).toBe(
      at('2026-02-05T09:00-05:00'),
    );
  });
});

describe('slotAtOrBefore', () => {
  it('returns the slot itself when given a slot', () => {
    const slot = at('2026-03-29T03:00+02:00');

    expect(slotAtOrBefore(aRule({ sendTime: '02:30' }), 'Europe/Paris', slot)).toBe(slot);
  });

  it('returns the previous slot one millisecond before a slot', () => {
    const rule = aRule({ cadence: 'WEEKLY', weekday: 7 });

    expect(slotAtOrBefore(rule, 'Australia/Sydney', at('2026-01-11T09:00+11:00') - 1)).toBe(
      at('2026-01-04T09:00+11:00'),
    );
  });
});

describe('slotsBefore', () => {
  it('returns the slot itself for n = 0', () => {
    const slot = at('2026-01-05T09:00Z');

    expect(slotsBefore(aRule(), 'UTC', slot, 0)).toBe(slot);
  });

  it('counts from the latest slot at or before an instant that is not a slot', () => {
    expect(slotsBefore(aRule(), 'UTC', at('2026-01-05T15:00Z'), 0)).toBe(at('2026-01-05T09:00Z'));
    expect(slotsBefore(aRule(), 'UTC', at('2026-01-05T15:00Z'), 2)).toBe(at('2026-01-03T09:00Z'));
  });

  it('counts calendar slots, not hours, across a DST change', () => {
    const zone = 'America/New_York';

    const back = slotsBefore(aRule(), zone, at('2026-03-09T09:00-04:00'), 2);

    expect(back).toBe(at('2026-03-07T09:00-05:00'));
  });

  it('rejects a negative count', () => {
    expect(() => slotsBefore(aRule(), 'UTC', 0, -1)).toThrow(RangeError);
  });
});

describe('instantAtLocal', () => {
  it('rejects a date that does not exist', () => {
    expect(() =>
      instantAtLocal('UTC', { year: 2026, month: 2, day: 30, hour: 9, minute: 0 }),
    ).toThrow(RangeError);
  });
});

describe('isValidZone', () => {
  it('accepts IANA zones, half-hour and 45-minute ones included', () => {
    for (const zone of ['UTC', 'Europe/Paris', 'Asia/Kathmandu', 'Pacific/Chatham']) {
      expect(isValidZone(zone)).toBe(true);
    }
  });

  it('rejects names that are not zones', () => {
    for (const zone of ['', 'Mars/Olympus_Mons', 'UTC+5', '+02:00', '-05:00']) {
      expect(isValidZone(zone)).toBe(false);
    }
  });
});

describe('parseSendTime', () => {
  it('reads a 24-hour HH:mm time', () => {
    expect(parseSendTime('00:00')).toEqual({ hour: 0, minute: 0 });
    expect(parseSendTime('23:59')).toEqual({ hour: 23, minute: 59 });
  });

  it.each(['9:00', '24:00', '09:60', '09:00:00', '0900', '', ' 09:00'])(
    'rejects %j',
    (sendTime) => {
      expect(() => parseSendTime(sendTime)).toThrow(InvalidSlotRuleError);
    },
  );

  it('says what it expected', () => {
    expect(() => parseSendTime('9am')).toThrow('sendTime must be HH:mm between 00:00 and 23:59');
  });
});

describe('parseSlotRule', () => {
  it('fills in Monday and the 1st as defaults', () => {
    expect(parseSlotRule(aRule({ cadence: 'WEEKLY', sendTime: '07:45' }))).toEqual({
      cadence: 'WEEKLY',
      hour: 7,
      minute: 45,
      weekday: 1,
      dayOfMonth: 1,
    });
  });

  it.each([
    { weekday: 0 },
    { weekday: 8 },
    { weekday: 1.5 },
    { dayOfMonth: 0 },
    { dayOfMonth: 29 },
    { dayOfMonth: 31 },
    { sendTime: '25:00' },
  ])('rejects %j', (overrides) => {
    expect(() => parseSlotRule(aRule(overrides))).toThrow(InvalidSlotRuleError);
  });

  it('rejects an unknown cadence', () => {
    const rule = { ...aRule(), cadence: 'HOURLY' } as unknown as SlotRule;

    expect(() => parseSlotRule(rule)).toThrow(InvalidSlotRuleError);
  });

  it('makes every slot function reject a bad rule', () => {
    const rule = aRule({ cadence: 'MONTHLY', dayOfMonth: 31 });

    expect(() => nextSlotAfter(rule, 'UTC', 0)).toThrow(InvalidSlotRuleError);
    expect(() => slotAtOrBefore(rule, 'UTC', 0)).toThrow(InvalidSlotRuleError);
    expect(() => slotsBefore(rule, 'UTC', 0, 1)).toThrow(InvalidSlotRuleError);
  });
});
