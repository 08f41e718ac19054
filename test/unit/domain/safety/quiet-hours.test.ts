import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '#lib/domain/errors.ts';
import {
  isQuiet,
  isQuietMinute,
  minutesOf,
  QUIET_HOURS_DEFAULT,
  quietHoursFor,
  quietHoursSchema,
} from '#lib/domain/safety/quiet-hours.ts';
import { refuseQuietSendTime, topicSilencedBy } from '#lib/domain/safety/quiet-hours-check.ts';

const at = (iso: string) => Date.parse(iso);

describe('isQuietMinute: a daily window, past midnight or not', () => {
  it.each([
    ['20:59', QUIET_HOURS_DEFAULT, false],
    ['21:00', QUIET_HOURS_DEFAULT, true],
    ['23:59', QUIET_HOURS_DEFAULT, true],
    ['00:00', QUIET_HOURS_DEFAULT, true],
    ['07:59', QUIET_HOURS_DEFAULT, true],
    ['08:00', QUIET_HOURS_DEFAULT, false],
    ['12:00', { start: '12:00', end: '14:00' }, true],
    ['14:00', { start: '12:00', end: '14:00' }, false],
    ['11:59', { start: '12:00', end: '14:00' }, false],
    ['03:00', { start: '08:00', end: '08:00' }, false],
  ])('%s in %o: %s', (time, window, quiet) => {
    expect(isQuietMinute(minutesOf(time), window)).toBe(quiet);
  });
});

describe('isQuiet: in the person’s zone, across daylight saving', () => {
  it.each([
    // Paris springs forward on 29 March 2026 (02:00 becomes 03:00), falls back on 25 October.
    ['07:59 Paris the morning clocks go forward', '2026-03-29T05:59:00Z', 'Europe/Paris', true],
    ['08:00 Paris the morning clocks go forward', '2026-03-29T06:00:00Z', 'Europe/Paris', false],
    ['20:59 Paris the evening before', '2026-03-28T19:59:00Z', 'Europe/Paris', false],
    ['21:00 Paris the day clocks go forward', '2026-03-29T19:00:00Z', 'Europe/Paris', true],
    ['07:59 Paris the morning clocks go back', '2026-10-25T06:59:00Z', 'Europe/Paris', true],
    ['08:00 Paris the morning clocks go back', '2026-10-25T07:00:00Z', 'Europe/Paris', false],
    ['the repeated 02:30 Paris (first time)', '2026-10-25T00:30:00Z', 'Europe/Paris', true],
    ['the repeated 02:30 Paris (second time)', '2026-10-25T01:30:00Z', 'Europe/Paris', true],
    // New York: 8 March and 1 November 2026.
    ['08:00 New York after clocks went forward', '2026-03-08T12:00:00Z', 'America/New_York', false],
    ['07:59 New York after clocks went forward', '2026-03-08T11:59:00Z', 'America/New_York', true],
    ['08:00 New York after clocks went back', '2026-11-01T13:00:00Z', 'America/New_York', false],
    ['20:59 New York after clocks went back', '2026-11-02T01:59:00Z', 'America/New_York', false],
    ['21:00 New York after clocks went back', '2026-11-02T02:00:00Z', 'America/New_York', true],
    ['the same instant is 10:30 in Kolkata', '2026-11-02T05:00:00Z', 'Asia/Kolkata', false],
  ])('%s: %s', (_, instant, zone, quiet) => {
    expect(isQuiet(at(instant), zone, QUIET_HOURS_DEFAULT)).toBe(quiet);
  });
});

describe('quietHoursFor', () => {
  const own = { start: '22:00', end: '07:00' };
  const pages = { start: '20:00', end: '09:00' };

  it.each([
    ['the topic’s own first', { quietHours: pages }, { quietHours: own }, own],
    ['else the Page’s', { quietHours: pages }, {}, pages],
    ['else 21:00-08:00', {}, {}, QUIET_HOURS_DEFAULT],
  ])('takes %s', (_, page, topic, window) => {
    expect(quietHoursFor(page, topic)).toEqual(window);
  });
});

describe('quietHoursSchema: HH:mm', () => {
  it.each([
    [{ start: '21:00', end: '08:00' }, true],
    [{ start: '9:00', end: '08:00' }, false],
    [{ start: '24:00', end: '08:00' }, false],
    [{ start: '21:60', end: '08:00' }, false],
    [{ start: '21:00' }, false],
    [{ start: '21:00', end: '08:00', zone: 'UTC' }, false],
    ['21:00-08:00', false],
  ])('%o: %s', (value, valid) => {
    expect(quietHoursSchema.safeParse(value).success).toBe(valid);
  });
});

describe('refuseQuietSendTime', () => {
  it('refuses a topic sending inside the default quiet hours, naming them', () => {
    expect(() => refuseQuietSendTime({}, { topicId: 't', sendTime: '07:30' })).toThrow(
      new InvalidInputError(
        'sendTime: 07:30 is inside the default quiet hours 21:00-08:00, when nothing is sent; choose another time or set quietHours',
      ),
    );
  });

  it('lets a topic with quiet hours of its own send early', () => {
    expect(() =>
      refuseQuietSendTime(
        {},
        { topicId: 't', sendTime: '07:30', quietHours: { start: '22:00', end: '07:00' } },
      ),
    ).not.toThrow();
  });

  it('finds the first topic a Page’s new quiet hours would silence', () => {
    const topics = [
      { topicId: 'a', sendTime: '09:00' },
      { topicId: 'b', sendTime: '19:30' },
      { topicId: 'c', sendTime: '19:30', quietHours: { start: '22:00', end: '07:00' } },
    ];

    expect(topicSilencedBy({ quietHours: { start: '19:00', end: '08:00' } }, topics)).toEqual(
      topics[1],
    );
    expect(topicSilencedBy({}, topics)).toBeUndefined();
  });
});
