import type { IncomingMessage } from 'node:http';
import { Worker } from 'node:worker_threads';

/**
 * Meta counts a call against a Page's rate when it reaches Meta's servers. In one process, a
 * call to the simulator can wait tens of milliseconds on the caller's busy event loop before
 * the simulator's handler runs; counted then, a call that left on time lands in the next
 * call's second, and the simulator would refuse calls Meta would not. The arrival front is a
 * thread of its own that takes the calls, stamps when each arrived, and passes it on.
 */

/** The header the front writes its stamp in (`arrival-front-worker.ts`). */
export const ARRIVAL_HEADER = 'x-simulator-arrived-at';

export interface ArrivalFront {
  /** The URL callers use: the front's. */
  url: string;
  stop(): Promise<void>;
}

/** Starts the front on `port` (0: any free one), passing calls to the server on `targetPort`. */
export async function startArrivalFront(port: number, targetPort: number): Promise<ArrivalFront> {
  const worker = new Worker(new URL('./arrival-front-worker.ts', import.meta.url), {
    workerData: { port, targetPort },
  });
  const listening = await new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (message: { port: number }) => {
      worker.off('error', reject);
      resolve(message.port);
    });
  });
  return {
    url: `http://127.0.0.1:${listening}`,
    async stop() {
      await worker.terminate();
    },
  };
}

/**
 * How long ago, in real ms, the front stamped `req`'s arrival; 0 for a call that came
 * straight to the simulator's server.
 */
export function arrivalAgeMs(req: IncomingMessage): number {
  const stamp = Number(req.headers[ARRIVAL_HEADER]);
  if (!Number.isFinite(stamp) || stamp <= 0) return 0;
  return Math.max(0, performance.timeOrigin + performance.now() - stamp);
}

/**
 * The simulator's rate-limit time (`realNow`), read as of the arrival of the call being
 * decided: the rate limiter and the Page ceiling read it through `now`, and the Graph routes
 * decide each call inside `asOf`, which is synchronous.
 */
export function createArrivalClock(realNow: () => number, speed = 1) {
  let current: number | undefined;
  return {
    now: () => current ?? realNow(),
    /** Runs `decide` with `now` reading the time the call arrived, `ageMs` real ms ago. */
    asOf<T>(ageMs: number, decide: () => T): T {
      const before = current;
      current = realNow() - ageMs * speed;
      try {
        return decide();
      } finally {
        current = before;
      }
    },
  };
}

export type ArrivalClock = ReturnType<typeof createArrivalClock>;
