import {
  ChangeMessageVisibilityBatchCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { chunk, mapWithConcurrency } from '../concurrency.ts';
import type { FanoutDeps } from '../domain/fanout/run-fanout.ts';
import type { SendJob } from '../domain/send-job.ts';
import type { JobQueue } from '../domain/sending/ports.ts';
import type { SendRecord } from '../domain/sending/send-outcome.ts';

const MAX_ATTEMPTS = 6;

/** SQS's longest per-message delay. */
export const MAX_DELAY_SECONDS = 900;

/**
 * SQS caps a message's visibility at 12 h from when it was received; the margin covers the
 * time the batch already ran.
 */
export const MAX_DEFER_SECONDS = 12 * 3600 - 15 * 60;

/** A job to queue, held back `delaySeconds` (until its token's cooldown is over). */
export interface QueuedJob {
  job: SendJob;
  delaySeconds: number;
}

/**
 * The send queue: the fan-out puts jobs on it, 10 per call (failed entries are retried, never
 * dropped), and the sender defers the messages it received by setting their visibility timeout.
 * `delayScale` shrinks delays for a local clock that runs faster than real time.
 */
export function sqsSendQueue(
  client: SQSClient,
  queueUrl: string,
  options: { delayScale?: number } = {},
): FanoutDeps['queue'] & JobQueue {
  const scale = options.delayScale ?? 1;
  return {
    async enqueue(jobs: readonly QueuedJob[]): Promise<void> {
      await mapWithConcurrency(chunk(jobs, 10), 8, async (batch) => {
        let pending = batch.map(({ job, delaySeconds }, index) => ({
          Id: String(index),
          MessageBody: JSON.stringify(job),
          ...(delaySeconds > 0 && {
            DelaySeconds: Math.min(MAX_DELAY_SECONDS, Math.ceil(delaySeconds * scale)),
          }),
        }));
        for (let attempt = 1; pending.length > 0; attempt++) {
          if (attempt > MAX_ATTEMPTS) {
            throw new Error(
              `${pending.length} send jobs could not be queued after ${MAX_ATTEMPTS} attempts`,
            );
          }
          if (attempt > 1)
            await sleep(Math.min(2_000, 50 * 2 ** attempt) * (0.5 + Math.random() / 2));
          const answer = await client.send(
            new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: pending }),
          );
          const failed = new Set((answer.Failed ?? []).map((entry) => entry.Id));
          pending = pending.filter((entry) => failed.has(entry.Id));
        }
      });
    },

    async defer(entries) {
      await mapWithConcurrency(chunk(entries, 10), 4, async (batch) => {
        const answer = await client.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: queueUrl,
            Entries: batch.map(({ handle, delayMs }, index) => ({
              Id: String(index),
              ReceiptHandle: handle,
              VisibilityTimeout: deferSeconds(delayMs),
            })),
          }),
        );
        const failed = answer.Failed ?? [];
        if (failed.length > 0) {
          // The message comes back after the queue's own visibility timeout instead.
          throw new Error(
            `could not defer ${failed.length} messages: ${failed.map((entry) => entry.Code).join(', ')}`,
          );
        }
      });
    },
  };
}

/** Whole seconds, rounded up (never early), within what SQS allows. */
export function deferSeconds(delayMs: number): number {
  return Math.min(MAX_DEFER_SECONDS, Math.max(0, Math.ceil(delayMs / 1000)));
}

/** An SQS record as the sender reads it. */
export function sendRecordOf(record: SQSRecord): SendRecord {
  const count = Number(record.attributes.ApproximateReceiveCount);
  return {
    id: record.messageId,
    body: record.body,
    receiveCount: Number.isFinite(count) && count >= 1 ? count : 1,
    handle: record.receiptHandle,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
