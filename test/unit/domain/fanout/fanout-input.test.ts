import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '#lib/domain/errors.ts';
import { parseFanoutInput } from '#lib/domain/fanout/run-fanout.ts';
import { FANOUT_SCHEDULES, fanoutScheduleInput } from '#lib/schedules.ts';

describe('parseFanoutInput', () => {
  it('reads the scheduled time Scheduler sends as an ISO instant', () => {
    const input = parseFanoutInput({ cadence: 'DAILY', scheduledTime: '2026-11-23T08:15:00Z' });

    expect(input).toEqual({ cadence: 'DAILY', scheduledTime: Date.parse('2026-11-23T08:15:00Z') });
  });

  it('accepts epoch milliseconds', () => {
    expect(parseFanoutInput({ cadence: 'WEEKLY', scheduledTime: 5 }).scheduledTime).toBe(5);
  });

  it('names the bad field', () => {
    expect(() => parseFanoutInput({ cadence: 'HOURLY', scheduledTime: 5 })).toThrow(
      InvalidInputError,
    );
    expect(() => parseFanoutInput({ cadence: 'DAILY', scheduledTime: 'soon' })).toThrow(
      /scheduledTime/,
    );
  });

  it('reads a continuation as earlier releases handed it over, position included', () => {
    const work = {
      partition: 'DUE#DAILY#2001#daily#Europe/Paris#7',
      pageId: '2001',
      topicId: 'daily',
      slot: Date.parse('2026-11-23T08:00:00Z'),
      threshold: Date.parse('2026-11-22T12:00:00Z'),
      calendarThreshold: Date.parse('2026-11-22T12:00:00Z'),
      route: 'send_api',
      pageZone: 'Europe/Paris',
      startKey: {
        pk: 'SUB#2001#p042',
        sk: 'TOPIC#daily',
        duePk: 'DUE#DAILY#2001#daily#Europe/Paris#7',
        dueSk: 'p042',
      },
    };
    const payload = JSON.stringify({
      cadence: 'DAILY',
      scheduledTime: Date.parse('2026-11-23T08:15:00Z'),
      continuation: {
        windowFrom: Date.parse('2026-11-23T08:00:00Z'),
        startedThrough: 'DUE#DAILY#2001#daily#Europe/Paris#9',
        inProgress: [work],
      },
    });

    expect(parseFanoutInput(JSON.parse(payload))).toEqual(JSON.parse(payload));
  });
});

describe('fan-out schedules', () => {
  it('defines one schedule per cadence, every 15 minutes', () => {
    expect(FANOUT_SCHEDULES.map((schedule) => [schedule.id, schedule.expression])).toEqual([
      ['FanoutDaily', 'cron(0/15 * * * ? *)'],
      ['FanoutWeekly', 'cron(0/15 * * * ? *)'],
      ['FanoutMonthly', 'cron(0/15 * * * ? *)'],
    ]);
  });

  it('gives Scheduler an input the fan-out parses once the time is filled in', () => {
    const template = fanoutScheduleInput('MONTHLY');
    const filled = JSON.parse(
      template.replace('<aws.scheduler.scheduled-time>', '2026-12-01T07:15:00Z'),
    );

    expect(parseFanoutInput(filled)).toEqual({
      cadence: 'MONTHLY',
      scheduledTime: Date.parse('2026-12-01T07:15:00Z'),
    });
  });
});
