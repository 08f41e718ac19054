import * as z from 'zod';
import type { Clock } from '../../clock.ts';
import { InvalidInputError } from '../errors.ts';
import { type FanoutDeps, type FanoutResult, runFanout } from '../fanout/run-fanout.ts';
import { type Cadence, cadenceSchema } from '../topic.ts';
import { type AdminRequest, bodyObject, parseInput } from './input.ts';

const fanoutBodySchema = z.strictObject({
  cadence: cadenceSchema,
  scheduledTime: z
    .union([
      z.iso.datetime({ offset: true }).transform((value) => Date.parse(value)),
      z.number().int(),
    ])
    .optional(),
});

export interface AdminFanoutInput {
  cadence: Cadence;
  scheduledTime?: number;
}

/** Reads `POST /admin/fanout`. */
export function parseAdminFanout(request: AdminRequest): AdminFanoutInput {
  const { cadence, scheduledTime } = parseInput(fanoutBodySchema, bodyObject(request.body));
  return { cadence, ...(scheduledTime !== undefined && { scheduledTime }) };
}

/**
 * Runs a cadence's fan-out now, as if its schedule had fired at `scheduledTime` (default: the
 * clock's now). A time in the future is refused: the run would be marked complete up to it,
 * and the schedule's own runs until then would find nothing to do.
 */
export async function runAdminFanout(
  input: AdminFanoutInput,
  deps: { fanout: Omit<FanoutDeps, 'timeLeft'>; clock: Clock },
  timeLeft: () => number,
): Promise<FanoutResult & { cadence: Cadence; scheduledTime: string }> {
  const now = deps.clock.now();
  const scheduledTime = input.scheduledTime ?? now;
  if (scheduledTime > now) {
    throw new InvalidInputError(
      `scheduledTime: ${new Date(scheduledTime).toISOString()} is after the clock's now (${new Date(now).toISOString()})`,
    );
  }
  const result = await runFanout(
    { cadence: input.cadence, scheduledTime },
    { ...deps.fanout, timeLeft },
  );
  return {
    ...result,
    cadence: input.cadence,
    scheduledTime: new Date(scheduledTime).toISOString(),
  };
}
