import { describe, expect, it } from 'vitest';
import { silentLog } from '#lib/log.ts';
import type { Schedule } from '#lib/schedules.ts';
import { createRuntimeClock } from '../../../local/runtime-clock.ts';
import { startScheduler } from '../../../local/scheduler.ts';

const START = Date.parse('2026-03-02T00:00:00Z');
const QUARTER: Schedule = { id: 'Quarter', expression: 'cron(0/15 * * * ? *)', everyMinutes: 15 };
const HOURLY: Schedule = { id: 'Hourly', expression: 'cron(0 * * * ? *)', everyMinutes: 60 };

/** A runtime clock that stands still unless moved, and a scheduler on it that never ticks. */
function aScheduler(
  catchUp: 'every-run' | 'latest-run',
  fire: (schedule: Schedule, at: number) => Promise<void>,
) {
  const real = START;
  const clock = createRuntimeClock({ start: START, realNow: () => real });
  const scheduler = startScheduler({
    clock,
    schedules: [QUARTER, HOURLY],
    fire,
    log: silentLog,
    tickMs: 3_600_000,
    catchUp,
  });
  return { clock, scheduler };
}

const iso = (at: number) => new Date(at).toISOString().slice(11, 16);

describe('local scheduler', () => {
  it('fires every boundary a jump passed, each schedule in order', async () => {
    const fired: string[] = [];
    const { clock, scheduler } = aScheduler('every-run', async (schedule, at) => {
      fired.push(`${schedule.id} ${iso(at)}`);
    });

    clock.advanceTo(START + 60 * 60_000);
    await scheduler.catchUp();
    await scheduler.stop();

    expect(fired.filter((run) => run.startsWith('Quarter'))).toEqual([
      'Quarter 00:15',
      'Quarter 00:30',
      'Quarter 00:45',
      'Quarter 01:00',
    ]);
    expect(fired.filter((run) => run.startsWith('Hourly'))).toEqual(['Hourly 01:00']);
  });

  it('fires only the latest boundary of each schedule with latest-run', async () => {
    const fired: string[] = [];
    const { clock, scheduler } = aScheduler('latest-run', async (schedule, at) => {
      fired.push(`${schedule.id} ${iso(at)}`);
    });

    clock.advanceTo(START + 2 * 60 * 60_000 + 5 * 60_000);
    await scheduler.catchUp();
    await scheduler.stop();

    expect(fired.sort()).toEqual(['Hourly 02:00', 'Quarter 02:00']);
  });

  it('runs schedules due together side by side, as EventBridge Scheduler does', async () => {
    const started: string[] = [];
    let releaseQuarter = () => {};
    const quarterHeld = new Promise<void>((resolve) => {
      releaseQuarter = resolve;
    });
    const { clock, scheduler } = aScheduler('latest-run', async (schedule) => {
      started.push(schedule.id);
      // The quarter-hour run finishes only once the hourly one has started beside it.
      if (schedule.id === 'Quarter') await quarterHeld;
      else releaseQuarter();
    });

    clock.advanceTo(START + 60 * 60_000);
    await scheduler.catchUp();
    await scheduler.stop();

    expect(started.sort()).toEqual(['Hourly', 'Quarter']);
  });
});
