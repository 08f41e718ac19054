import { ChangeMessageVisibilityBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { deferSeconds } from '#lib/aws/sqs-send-queue.ts';
import { chunk } from '#lib/concurrency.ts';
import type { JobQueue } from '#lib/domain/sending/ports.ts';
import type { RuntimeClock } from './runtime-clock.ts';

/**
 * A put-back SQS brings back this soon by itself is left to it: its receipt handle may be
 * stale by the time a wake would use it, and a wake through a stale handle could make a
 * message visible that is already being handled again.
 */
const LEAVE_TO_SQS_MS = 1_000;

/**
 * The sender's put-backs on a clock that may run fast or jump: SQS counts real seconds, so
 * a delay is shortened by the clock's speed, and a message whose delay has passed on the
 * runtime clock is made visible again by `wake`: at once after a jump, and by a timer when
 * the clock reaches it, unless SQS is about to bring it back anyway.
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
  /** Per receipt handle: when it is due on the runtime clock, and when SQS shows it again. */
  const waiting = new Map<string, { dueAt: number; visibleAt: number }>();
  let timer: NodeJS.Timeout | undefined;
  const earliestWake = () => {
    const now = clock.now();
    let earliest: number | undefined;
    for (const { dueAt } of waiting.values()) {
      if (dueAt > now && (earliest === undefined || dueAt < earliest)) earliest = dueAt;
    }
    return earliest;
  };
  const wake = async () => {
    const now = clock.now();
    const handles: string[] = [];
    for (const [handle, { dueAt, visibleAt }] of waiting) {
      if (dueAt > now) continue;
      waiting.delete(handle);
      if (visibleAt - performance.now() > LEAVE_TO_SQS_MS) handles.push(handle);
    }
    for (const batch of chunk(handles, 10)) {
      try {
        // An entry that fails was already received again under a new handle: nothing to wake.
        await sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: queueUrl,
            Entries: batch.map((handle, index) => ({
              Id: String(index),
              ReceiptHandle: handle,
              VisibilityTimeout: 0,
            })),
          }),
        );
      } catch {
        // SQS shows these again at their own time.
      }
    }
    arm();
  };
  /**
   * Wakes the earliest put-back when the clock reaches its time (unless a jump does first); at
   * once for one that came due while a wake was under way, past the time that wake read.
   */
  const arm = () => {
    clearTimeout(timer);
    let earliest: number | undefined;
    for (const { dueAt } of waiting.values()) {
      if (earliest === undefined || dueAt < earliest) earliest = dueAt;
    }
    if (earliest === undefined) return;
    timer = setTimeout(
      () => void wake().catch(() => undefined),
      Math.max(0, (earliest - clock.now()) / clock.speed),
    );
    timer.unref();
  };
  return {
    async defer(entries) {
      const scaled = entries.map(({ handle, delayMs }) => ({
        handle,
        delayMs: delayMs / clock.speed,
      }));
      for (const [index, { handle, delayMs }] of entries.entries()) {
        waiting.set(handle, {
          dueAt: clock.now() + delayMs,
          visibleAt: performance.now() + deferSeconds(scaled[index]?.delayMs ?? 0) * 1000,
        });
      }
      await inner.defer(scaled);
      arm();
    },
    /**
     * Put-backs whose time on the runtime clock is still ahead: they stay invisible until then
     * (SQS rounds their delay up to whole seconds, so none comes back earlier).
     */
    waitingOnClock() {
      const now = clock.now();
      let count = 0;
      for (const { dueAt } of waiting.values()) if (dueAt > now) count++;
      return count;
    },
    /** The runtime-clock time the first put-back still ahead waits for; undefined when none. */
    earliestWake,
    wake,
  };
}
