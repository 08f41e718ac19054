import { ReceiveMessageCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { beforeEach, describe, expect, it } from 'vitest';
import { sqsSendQueue } from '#lib/aws/sqs-send-queue.ts';
import type { RuntimeClock } from '../../local/runtime-clock.ts';
import { virtualTimeJobQueue } from '../../local/virtual-time-queue.ts';
import { createTestQueue } from '../support/queue.ts';

/** A runtime clock that moves only when the test moves it. */
function manualClock(start: number): RuntimeClock & { set(ms: number): void } {
  let now = start;
  return {
    speed: 1,
    now: () => now,
    advanceTo(ms) {
      now = ms;
    },
    set(ms) {
      now = ms;
    },
  };
}

let queue: Awaited<ReturnType<typeof createTestQueue>>;

beforeEach(async () => {
  queue = await createTestQueue('virtual-time');
});

async function receive(max = 10) {
  const answer = await queue.client.send(
    new ReceiveMessageCommand({ QueueUrl: queue.queueUrl, MaxNumberOfMessages: max }),
  );
  return answer.Messages ?? [];
}

/** Receives until every body in `bodies` has come back, or fails after `withinMs` real ms. */
async function receivedAgain(bodies: readonly string[], withinMs: number): Promise<string[]> {
  const seen = new Set<string>();
  const deadline = performance.now() + withinMs;
  while (bodies.some((body) => !seen.has(body))) {
    if (performance.now() > deadline) break;
    for (const message of await receive()) seen.add(message.Body ?? '');
  }
  return [...seen].sort();
}

describe('virtualTimeJobQueue', () => {
  it('wakes a put-back that came due while a wake was under way, long before SQS would', async () => {
    const start = Date.parse('2026-12-09T08:00:00Z');
    const clock = manualClock(start);
    const jobs = virtualTimeJobQueue(
      sqsSendQueue(queue.client, queue.queueUrl),
      queue.client,
      queue.queueUrl,
      clock,
    );
    await queue.client.send(
      new SendMessageBatchCommand({
        QueueUrl: queue.queueUrl,
        Entries: [
          { Id: 'a', MessageBody: 'a' },
          { Id: 'b', MessageBody: 'b' },
        ],
      }),
    );
    const received = await receive();
    const handleOf = (body: string) =>
      received.find((message) => message.Body === body)?.ReceiptHandle ?? '';
    expect(received).toHaveLength(2);
    // Both go back for about 30 s; b is due 5 ms after a.
    await jobs.defer([
      { handle: handleOf('a'), delayMs: 30_000 },
      { handle: handleOf('b'), delayMs: 30_005 },
    ]);
    expect(jobs.earliestWake()).toBe(start + 30_000);

    clock.advanceTo(start + 30_000);
    const waking = jobs.wake();
    // The clock passes b's time while the wake waits on SQS for a.
    clock.set(start + 30_010);
    await waking;

    expect(await receivedAgain(['a', 'b'], 10_000)).toEqual(['a', 'b']);
    expect(jobs.waitingOnClock()).toBe(0);
  });
});
