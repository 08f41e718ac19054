import { ChangeMessageVisibilityCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { JobQueue } from '#lib/domain/sending/ports.ts';
import type { RuntimeClock } from './runtime-clock.ts';

/**
 * The sender's put-backs on a clock that may run fast or jump: SQS counts real seconds, so
 * a delay is shortened by the clock's speed, and a message whose delay has passed on the
 * runtime clock (after a jump) is made visible again at once by `wake`.
 */
export function virtualTimeJobQueue(
  inner: JobQueue,
  sqs: SQSClient,
  queueUrl: string,
  clock: RuntimeClock,
): JobQueue & { wake(): Promise<void>; waitingOnClock(): number } {
  const waiting = new Map<string, number>();
  return {
    async defer(entries) {
      for (const { handle, delayMs } of entries) waiting.set(handle, clock.now() + delayMs);
      await inner.defer(
        entries.map(({ handle, delayMs }) => ({ handle, delayMs: delayMs / clock.speed })),
      );
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
    async wake() {
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
    },
  };
}
