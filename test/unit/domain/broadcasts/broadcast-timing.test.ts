import { describe, expect, it } from 'vitest';
import {
  BROADCAST_MAX_AHEAD_MS,
  checkBroadcastTiming,
  parseBroadcastTiming,
} from '#lib/domain/broadcasts/broadcast-timing.ts';
import { InvalidInputError } from '#lib/domain/errors.ts';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const PAGE = { timezone: 'Europe/Paris' };
const ZONES = ['Pacific/Kiritimati', 'Europe/Paris', 'America/St_Johns'];

describe("a broadcast request's timing", () => {
  it('is a local date and time, or now', () => {
    expect(parseBroadcastTiming({ date: '2026-11-24', localTime: '12:00' })).toEqual({
      date: '2026-11-24',
      localTime: '12:00',
    });
    expect(parseBroadcastTiming({ now: true })).toEqual({ now: true });
  });

  it.each([
    [{}, /^date: required/],
    [{ date: '2026-11-24' }, /^localTime: must be HH:mm/],
    [{ localTime: '12:00' }, /^date: /],
    [{ date: '2026-02-30', localTime: '12:00' }, /^date: must be a calendar date/],
    [{ date: '24/11/2026', localTime: '12:00' }, /^date: must be a calendar date/],
    [{ date: '2026-11-24', localTime: '24:00' }, /^localTime: must be HH:mm/],
    [{ date: '2026-11-24', localTime: 1200 }, /^localTime: must be HH:mm/],
    [{ now: false }, /^now: must be true/],
    [{ now: 'yes' }, /^now: must be true/],
    [{ now: true, date: '2026-11-24' }, /^date: not with now/],
    [{ now: true, localTime: '12:00' }, /^localTime: not with now/],
  ])('refuses %j, naming the field', (body, message) => {
    expect(() => parseBroadcastTiming(body)).toThrow(InvalidInputError);
    expect(() => parseBroadcastTiming(body)).toThrow(message);
  });
});

describe("a broadcast's time, checked before it is stored", () => {
  const check = (overrides: Partial<Parameters<typeof checkBroadcastTiming>[0]> = {}) =>
    checkBroadcastTiming({
      timing: { date: '2026-11-24', localTime: '12:00' },
      now: NOW,
      page: PAGE,
      topic: {},
      zones: ZONES,
      ...overrides,
    });

  it("gives the window over the topic's zones", () => {
    expect(check()).toMatchObject({
      firstAt: Date.parse('2026-11-23T22:00:00Z'),
      lastAt: Date.parse('2026-11-24T15:30:00Z'),
    });
  });

  it("uses the Page's zone for a topic with no subscriber yet", () => {
    expect(check({ zones: [] })).toMatchObject({
      firstAt: Date.parse('2026-11-24T11:00:00Z'),
      firstZone: 'Europe/Paris',
    });
  });

  it('refuses a time already past in the first zone, even when later zones are still to come', () => {
    // At NOW it is 02:00 on the 24th in Kiritimati (UTC+14): its 09:00 is still ahead, while
    // 20:00 on the 23rd is past there though still ahead in Paris and St John's.
    expect(() => check({ timing: { date: '2026-11-24', localTime: '09:00' } })).not.toThrow();
    expect(() => check({ timing: { date: '2026-11-23', localTime: '20:00' } })).toThrow(
      /^date: 2026-11-23 20:00 is past in Pacific\/Kiritimati \(2026-11-23T06:00:00.000Z\)/,
    );
  });

  it('refuses a local time inside the quiet hours, saying whose', () => {
    expect(() => check({ timing: { date: '2026-11-24', localTime: '22:00' } })).toThrow(
      /^localTime: 22:00 is inside the default quiet hours 21:00-08:00/,
    );
    expect(() =>
      check({ page: { ...PAGE, quietHours: { start: '12:00', end: '14:00' } } }),
    ).toThrow(/^localTime: 12:00 is inside the Page's quiet hours 12:00-14:00/);
    expect(() =>
      check({
        page: { ...PAGE, quietHours: { start: '12:00', end: '14:00' } },
        topic: { quietHours: { start: '22:00', end: '07:00' } },
      }),
    ).not.toThrow();
    expect(() => check({ topic: { quietHours: { start: '11:30', end: '12:30' } } })).toThrow(
      /^localTime: 12:00 is inside the topic's quiet hours/,
    );
  });

  it('refuses a broadcast more than a year ahead', () => {
    const late = new Date(NOW + BROADCAST_MAX_AHEAD_MS).toISOString().slice(0, 10);

    expect(() => check({ timing: { date: late, localTime: '12:00' } })).toThrow(
      /^date: .* is more than a year ahead/,
    );
  });

  it('lets a broadcast sent now through at any hour: the sender skips the zones in quiet hours', () => {
    expect(check({ timing: { now: true } })).toMatchObject({ firstAt: NOW, lastAt: NOW });
  });
});
