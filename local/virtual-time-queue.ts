import { ChangeMessageVisibilityCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { JobQueue } from '#lib/domain/sending/ports.ts';
import type { RuntimeClock } from './runtime-clock.ts';

/**
 * The sender's put-backs on a clock that may run fast or jump: SQS counts real seconds, so
 * a delay is shortened by the clock's speed, and a message whose delay has passed on the
 * runtime clock is made visible again by `wake`: at once after a jump, and by a timer when
 * the clock reaches it (after a jump, SQS's real seconds would hold it back longer).
 */
export function virtualTimeJobQueue(
  inner: JobQueue,
  sqs: SQSClient,
  queueUrl: string,
  clock: RuntimeClock,
): JobQueue & {
  wake(): Promise<void>;
  waitingOnClock(): number;
  earliestWake(): number | undefined;
} {
  const waiting = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  const earliestWake = () => {
    let earliest: number | undefined;
    for (const dueAt of waiting.values()) {
      if (earliest === undefined || dueAt < earliest) earliest = dueAt;
    }
    return earliest;
  };
  const wake = async () => {
    const now = clock.now();
    for (const [handle, dueAt] of waiting) {
      if (dueAt > now) continue;
      waiting.delete(handle);
      try {
        await sqs.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: queueUrl,
            ReceiptHandle: handle,
            VisibilityTimeout: 0,
          }),
        );
      } catch {
        // Already received again under a new handle: nothing left to wake.
      }
    }
    arm();
  };
  /** Wakes the earliest put-back when the clock reaches its time (unless a jump does first). */
  const arm = () => {
    clearTimeout(timer);
    const earliest = earliestWake();
    if (earliest === undefined) return;
    timer = setTimeout(
      () => void wake().catch(() => undefined),
      Math.max(0, (earliest - clock.now()) / clock.speed),
    );
    timer.unref();
  };
  return {
    async defer(entries) {
      for (const { handle, delayMs } of entries) waiting.set(handle, clock.now() + delayMs);
      await inner.defer(
        entries.map(({ handle, delayMs }) => ({ handle, delayMs: delayMs / clock.speed })),
      );
      arm();
    },
    /**
     * Put-backs whose time on the runtime clock is still ahead: they stay invisible until then
     * (SQS rounds their delay up to whole seconds, so none comes back earlier).
     */
    waitingOnClock() {
      const now = clock.now();
      let count = 0;
      for (const dueAt of waiting.values()) if (dueAt > now) count++;
      return count;
    },
    /** The runtime-clock time the first put-back waits for; undefined when none waits. */
    earliestWake,
    wake,
  };
}
