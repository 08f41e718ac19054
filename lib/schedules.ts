import { CADENCES, type Cadence } from './domain/topic.ts';

/** One fan-out schedule: what EventBridge Scheduler fires and what the local runtime imitates. */
export interface FanoutSchedule {
  /** Stable id, also the CDK construct id. */
  id: string;
  cadence: Cadence;
  /** EventBridge Scheduler expression, UTC. */
  expression: string;
  /** Minutes between runs: the local runtime fires at every multiple of it past the hour. */
  everyMinutes: number;
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
