import { expect } from 'vitest';
import type { Runtime } from '../../local/runtime.ts';
import type { SendPipelineState } from '../../local/send-pipeline.ts';

/**
 * What the end-to-end tests do to `npm start`'s runtime, in one place: call its admin API,
 * move its clock, and wait until the send pipeline has settled.
 */

/** A job put back less than this far ahead of the runtime clock is still to come in the test. */
const SETTLE_HORIZON_MS = 10 * 60_000;
const POLL_MS = 100;

/** An admin API answer, read as loosely as a client would. */
// biome-ignore lint/suspicious/noExplicitAny: tests read the answers as loosely as a client would.
export type AdminAnswer = { status: number; body: any };

/** Calls the runtime's HTTP server with the admin bearer token and a JSON body. */
export function adminClient(runtime: () => Runtime, adminToken: string) {
  return async (method: string, path: string, body?: unknown): Promise<AdminAnswer> => {
    const answer = await fetch(`${runtime().url}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: answer.status, body: await answer.json() };
  };
}

/** Moves the runtime clock through its HTTP route, as an operator would, and checks it moved. */
export async function moveClock(runtime: Runtime, to: number) {
  const answer = await fetch(`${runtime.url}/_local/clock`, {
    method: 'POST',
    body: JSON.stringify({ now: new Date(to).toISOString() }),
  });
  expect(answer.status).toBe(200);
}

/** Waits until `done` holds, or fails the test after `timeoutMs`. */
export async function until(done: () => boolean | Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error('the awaited state never came');
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/**
 * Waits until nothing more is sent before the runtime clock moves on: nothing runs and every
 * job left is put back until well after now (a cooldown, a Page held for hours).
 *
 * "Idle" alone is not enough on a clock that runs: a job held a few seconds for Meta's
 * rate limit also waits on the clock, and would be sent just after the test counted.
 */
export async function settled(runtime: Runtime, timeoutMs = 120_000) {
  let last: SendPipelineState | undefined;
  try {
    await until(async () => {
      last = await runtime.pipeline();
      if (!last.idle) return false;
      const soonest = last.nextWakeAt ?? Number.POSITIVE_INFINITY;
      return last.drained || soonest > runtime.clock.now() + SETTLE_HORIZON_MS;
    }, timeoutMs);
  } catch (error: unknown) {
    const clock = new Date(runtime.clock.now()).toISOString();
    throw new Error(`the send pipeline never settled (clock ${clock}): ${JSON.stringify(last)}`, {
      cause: error,
    });
  }
}

/**
 * Waits until nothing runs and every job left waits on the clock, however soon it comes back:
 * for a test that then moves the clock past a hold itself.
 */
export async function idle(runtime: Runtime, timeoutMs = 60_000) {
  await until(async () => (await runtime.pipeline()).idle, timeoutMs);
}
