import { describe, expect, it } from 'vitest';
import { isEditionDate } from '#lib/domain/editions/edition.ts';
import { datesBetween, editionDateOf } from '#lib/domain/editions/edition-date.ts';
import { type SlotRule, slotsBetween } from '#lib/domain/slots.ts';

const daily = (sendTime: string): SlotRule => ({ cadence: 'DAILY', sendTime });

describe('editionDateOf', () => {
  it.each([
    // zone, rule, slot (UTC), edition date
    ['Pacific/Auckland', daily('09:00'), '2026-12-04T20:00:00Z', '2026-12-05'],
    ['Europe/Paris', daily('09:00'), '2026-12-05T08:00:00Z', '2026-12-05'],
    ['America/Los_Angeles', daily('09:00'), '2026-12-05T17:00:00Z', '2026-12-05'],
    // The date line: UTC+14 and UTC-11 are a day apart at one hour apart.
    ['Pacific/Kiritimati', daily('09:00'), '2026-12-04T19:00:00Z', '2026-12-05'],
    ['Pacific/Pago_Pago', daily('09:00'), '2026-12-04T20:00:00Z', '2026-12-04'],
    ['Pacific/Pago_Pago', daily('23:30'), '2027-01-01T10:30:00Z', '2026-12-31'],
    // Chatham: +13:45 in (southern) summer, +12:45 in winter.
    ['Pacific/Chatham', daily('09:00'), '2026-12-04T19:15:00Z', '2026-12-05'],
    ['Pacific/Chatham', daily('00:15'), '2026-06-30T11:30:00Z', '2026-07-01'],
    // St John's: -03:30, -02:30 in summer; 02:30 on 8 March 2026 is skipped (03:00 instead).
    ['America/St_Johns', daily('02:30'), '2026-03-08T05:30:00Z', '2026-03-08'],
    ['America/St_Johns', daily('09:00'), '2026-03-07T12:30:00Z', '2026-03-07'],
    ['America/St_Johns', daily('09:00'), '2026-03-08T11:30:00Z', '2026-03-08'],
    // 01:30 on 1 November 2026 happens twice; the slot is the first one (NDT).
    ['America/St_Johns', daily('01:30'), '2026-11-01T04:00:00Z', '2026-11-01'],
    // Kiritimati skipped 31 December 1994 (-10:00 to +14:00): its slot opens 1 January, for 31 December.
    ['Pacific/Kiritimati', daily('09:00'), '1994-12-31T10:00:00Z', '1994-12-31'],
    ['Pacific/Kiritimati', daily('09:00'), '1994-12-31T19:00:00Z', '1995-01-01'],
    // A WEEKLY Monday in UTC+14 falls on Sunday in UTC: the edition is the local Monday.
    [
      'Pacific/Kiritimati',
      { cadence: 'WEEKLY', sendTime: '09:00' },
      '2026-12-06T19:00:00Z',
      '2026-12-07',
    ],
    [
      'Pacific/Pago_Pago',
      { cadence: 'WEEKLY', sendTime: '09:00', weekday: 5 },
      '2026-12-04T20:00:00Z',
      '2026-12-04',
    ],
    [
      'Pacific/Chatham',
      { cadence: 'MONTHLY', sendTime: '00:15' },
      '2026-11-30T10:30:00Z',
      '2026-12-01',
    ],
    [
      'America/St_Johns',
      { cadence: 'MONTHLY', sendTime: '22:00', dayOfMonth: 28 },
      '2026-03-01T01:30:00Z',
      '2026-02-28',
    ],
  ] as const)('%s %j at %s is the edition of %s', (zone, rule, slotUtc, date) => {
    const slot = Date.parse(slotUtc);
    // Each row is a real slot of its rule, so the table cannot drift from the calendar.
    expect(slotsBetween(rule, zone, slot - 1, slot)).toEqual([slot]);

    expect(editionDateOf(rule, zone, slot)).toBe(date);
  });

  it('gives one instant two dates on either side of the date line', () => {
    const slot = Date.parse('2026-12-04T19:00:00Z');

    expect(editionDateOf(daily('09:00'), 'Pacific/Kiritimati', slot)).toBe('2026-12-05');
    expect(editionDateOf(daily('09:00'), 'Pacific/Honolulu', slot)).toBe('2026-12-04');
  });

  it('gives every zone the same date for its own 09:00 across the 26 hours it takes', () => {
    const zones = [
      'Pacific/Kiritimati',
      'Pacific/Chatham',
      'Pacific/Auckland',
      'Asia/Kathmandu',
      'Europe/Paris',
      'America/St_Johns',
      'America/Los_Angeles',
      'Pacific/Pago_Pago',
    ];
    const from = Date.parse('2026-12-04T12:00:00Z');
    const to = Date.parse('2026-12-06T00:00:00Z');

    const dates = zones.map((zone) => {
      const [slot] = slotsBetween(daily('09:00'), zone, from, to).filter(
        (candidate) => editionDateOf(daily('09:00'), zone, candidate) === '2026-12-05',
      );
      return slot === undefined ? undefined : new Date(slot).toISOString();
    });

    expect(dates).toEqual([
      '2026-12-04T19:00:00.000Z',
      '2026-12-04T19:15:00.000Z',
      '2026-12-04T20:00:00.000Z',
      '2026-12-05T03:15:00.000Z',
      '2026-12-05T08:00:00.000Z',
      '2026-12-05T12:30:00.000Z',
      '2026-12-05T17:00:00.000Z',
      '2026-12-05T20:00:00.000Z',
    ]);
  });
});

describe('edition dates', () => {
  it.each([
    ['2026-12-05', true],
    ['2028-02-29', true],
    ['2026-02-29', false],
    ['2026-13-01', false],
    ['2026-12-5', false],
    ['05-12-2026', false],
    ['tomorrow', false],
    ['1999-12-31', false],
  ])('%s is a date: %s', (value, valid) => {
    expect(isEditionDate(value)).toBe(valid);
  });

  it('lists the days of a range across a month end', () => {
    expect(datesBetween('2026-02-27', '2026-03-02')).toEqual([
      '2026-02-27',
      '2026-02-28',
      '2026-03-01',
      '2026-03-02',
    ]);
  });
});
