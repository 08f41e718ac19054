import { describe, expect, it } from 'vitest';
import { broadcastInstant, broadcastWindow } from '#lib/domain/broadcasts/broadcast-window.ts';

const at = (iso: string) => Date.parse(iso);
const CREATED = at('2026-11-20T10:00:00Z');

describe("a broadcast's instant in each zone", () => {
  it.each([
    // Kiritimati is UTC+14: its noon on the 24th is the 23rd in UTC.
    ['Pacific/Kiritimati', '2026-11-24', '12:00', '2026-11-23T22:00:00Z'],
    ['Pacific/Pago_Pago', '2026-11-24', '12:00', '2026-11-24T23:00:00Z'],
    ['Pacific/Chatham', '2026-11-24', '12:00', '2026-11-23T22:15:00Z'],
    // St John's is UTC-3:30 in winter, UTC-2:30 in summer.
    ['America/St_Johns', '2026-11-24', '12:00', '2026-11-24T15:30:00Z'],
    ['America/St_Johns', '2026-07-01', '12:00', '2026-07-01T14:30:00Z'],
    ['Asia/Kolkata', '2026-11-24', '12:00', '2026-11-24T06:30:00Z'],
    ['Europe/Paris', '2026-11-24', '12:00', '2026-11-24T11:00:00Z'],
    ['Europe/Paris', '2026-07-01', '12:00', '2026-07-01T10:00:00Z'],
  ])('%s on %s at %s is %s', (zone, date, localTime, expected) => {
    expect(broadcastInstant({ date, localTime }, CREATED, zone)).toBe(at(expected));
  });

  it('moves to the first instant after a DST gap when the local time does not exist', () => {
    // Paris springs forward on 28 March 2027 from 02:00 to 03:00.
    expect(
      broadcastInstant({ date: '2027-03-28', localTime: '02:30' }, CREATED, 'Europe/Paris'),
    ).toBe(at('2027-03-28T01:00:00Z'));
    // St John's springs forward on 14 March 2027 at 02:00 local.
    expect(
      broadcastInstant({ date: '2027-03-14', localTime: '02:30' }, CREATED, 'America/St_Johns'),
    ).toBe(at('2027-03-14T05:30:00Z'));
  });

  it('takes the first of a time repeated when the clocks go back', () => {
    // Paris falls back on 25 October 2026 from 03:00 to 02:00: 02:30 happens twice.
    expect(
      broadcastInstant({ date: '2026-10-25', localTime: '02:30' }, CREATED, 'Europe/Paris'),
    ).toBe(at('2026-10-25T00:30:00Z'));
  });

  it('is the creation instant in every zone for a broadcast sent at once', () => {
    for (const zone of ['Pacific/Kiritimati', 'America/St_Johns', 'UTC']) {
      expect(broadcastInstant({ now: true }, CREATED, zone)).toBe(CREATED);
    }
  });
});

describe("a broadcast's window", () => {
  it('runs from the zone furthest east to the one furthest west, whatever their order', () => {
    const window = broadcastWindow({ date: '2026-11-24', localTime: '12:00' }, CREATED, [
      'Europe/Paris',
      'America/St_Johns',
      'Pacific/Kiritimati',
      'Asia/Kolkata',
    ]);

    expect(window).toEqual({
      firstAt: at('2026-11-23T22:00:00Z'),
      firstZone: 'Pacific/Kiritimati',
      lastAt: at('2026-11-24T15:30:00Z'),
      lastZone: 'America/St_Johns',
    });
  });

  it('spans the date line: Kiritimati and Pago Pago share a wall clock a day apart', () => {
    const window = broadcastWindow({ date: '2026-11-24', localTime: '09:00' }, CREATED, [
      'Pacific/Pago_Pago',
      'Pacific/Kiritimati',
    ]);

    expect(window.lastAt - window.firstAt).toBe(25 * 3_600_000);
  });

  it('is one instant for a broadcast sent at once', () => {
    const window = broadcastWindow({ now: true }, CREATED, [
      'Pacific/Kiritimati',
      'America/St_Johns',
    ]);

    expect([window.firstAt, window.lastAt]).toEqual([CREATED, CREATED]);
  });
});
