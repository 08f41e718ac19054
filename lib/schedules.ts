import { CADENCES, type Cadence } from './domain/topic.ts';

/** One schedule: what EventBridge Scheduler fires and what the local runtime imitates. */
export interface Schedule {
  /** Stable id, also the CDK construct id. */
  id: string;
  /** EventBridge Scheduler expression, UTC. */
  expression: string;
  /** Minutes between runs: the local runtime fires at every multiple of it past the hour. */
  everyMinutes: number;
}

/** One fan-out schedule, per cadence. */
export interface FanoutSchedule extends Schedule {
  cadence: Cadence;
}

const EVERY_MINUTES = 15;

/** Every cadence runs every 15 minutes; a run sends the slots that fell since the last one. */
export const FANOUT_SCHEDULES: readonly FanoutSchedule[] = CADENCES.map((cadence) => ({
  id: `Fanout${cadence[0]}${cadence.slice(1).toLowerCase()}`,
  cadence,
  expression: `cron(0/${EVERY_MINUTES} * * * ? *)`,
  everyMinutes: EVERY_MINUTES,
}));

/** The Scheduler input template: Scheduler fills in the run's scheduled time. */
export function fanoutScheduleInput(cadence: Cadence): string {
  return JSON.stringify({ cadence, scheduledTime: '<aws.scheduler.scheduled-time>' });
}

/**
 * The reconcile's tick, every hour on the hour: each Page's token list is read a day after its
 * last whole one, a refused or cut list is retried at its retry time, and erasures Meta has not
 * confirmed are retried.
 */
export const RECONCILE_SCHEDULE: Schedule = {
  id: 'ReconcileHourly',
  expression: 'cron(0 * * * ? *)',
  everyMinutes: 60,
};

/** The reconcile schedule's input template: Scheduler fills in the tick's scheduled time. */
export function reconcileScheduleInput(): string {
  return JSON.stringify({ reconcile: 'daily', scheduledTime: '<aws.scheduler.scheduled-time>' });
}
