import type { Log } from '#lib/log.ts';
import type { Schedule } from '#lib/schedules.ts';
import type { RuntimeClock } from './runtime-clock.ts';

/** Fires the schedules (fan-outs, reconcile) on the runtime clock, as EventBridge Scheduler would. */
export interface LocalScheduler {
  /** Fires every schedule whose time has come, in order; resolves when they all ran. */
  catchUp(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * What a clock jump fires: every boundary it passed, in turn (as EventBridge Scheduler would
 * have), or only the latest boundary of each schedule, whose run reads the whole window since
 * the last completed one (as a fan-out after downtime does; at most the lookback back).
 */
export type CatchUp = 'every-run' | 'latest-run';

const ATTEMPTS = 3;

/**
 * Fires each schedule at every multiple of its period, starting after the clock's reading
 * at start. When the clock jumps, every boundary it passed fires in turn (each run only
 * reads the slots since the previous one, so this is cheap when nothing is due), or with
 * `latest-run` only the last one of each schedule; different schedules fire side by side.
 */
export function startScheduler<S extends Schedule>(options: {
  clock: RuntimeClock;
  schedules: readonly S[];
  fire: (schedule: S, scheduledTime: number) => Promise<void>;
  log: Log;
  tickMs?: number;
  catchUp?: CatchUp;
}): LocalScheduler {
  const { clock, schedules, fire, log } = options;
  const latestOnly = options.catchUp === 'latest-run';
  const next = new Map(
    schedules.map((schedule) => [schedule.id, boundaryAfter(clock.now(), schedule)]),
  );
  let running: Promise<void> = Promise.resolve();
  let stopped = false;

  /** Fires one schedule's boundaries that have come, in order. */
  const runDueOf = async (schedule: S) => {
    const period = schedule.everyMinutes * 60_000;
    for (;;) {
      const due = next.get(schedule.id) ?? Number.POSITIVE_INFINITY;
      if (due > clock.now() || stopped) return;
      const at = latestOnly ? due + Math.floor((clock.now() - due) / period) * period : due;
      next.set(schedule.id, at + period);
      await fireWithRetries(schedule, at);
    }
  };
  // Schedules are independent, as EventBridge Scheduler's are: those due together run side by
  // side, each one's own runs in order.
  const runDue = async () => {
    await Promise.all(schedules.map(runDueOf));
  };

  const fireWithRetries = async (schedule: S, at: number) => {
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      try {
        await fire(schedule, at);
        return;
      } catch (error: unknown) {
        log.error('scheduled run failed', {
          schedule: schedule.id,
          scheduledTime: new Date(at).toISOString(),
          attempt,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
  };

  const catchUp = () => {
    running = running.then(runDue);
    return running;
  };
  const timer = setInterval(() => void catchUp(), options.tickMs ?? 250);

  return {
    catchUp,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

function boundaryAfter(now: number, schedule: Schedule): number {
  return firstRunAtOrAfter(schedule, now + 1);
}

/** The last run of `schedule` at or before `instant`: every slot up to it was in a window. */
export function lastRunAtOrBefore(schedule: Schedule, instant: number): number {
  const period = schedule.everyMinutes * 60_000;
  return Math.floor(instant / period) * period;
}

/** The first run of `schedule` at or after `instant`: the one whose window holds a slot there. */
export function firstRunAtOrAfter(schedule: Schedule, instant: number): number {
  const period = schedule.everyMinutes * 60_000;
  return Math.ceil(instant / period) * period;
}
