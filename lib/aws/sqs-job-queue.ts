import { ChangeMessageVisibilityBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { chunk, mapWithConcurrency } from '../concurrency.ts';
import type { JobQueue } from '../domain/sending/ports.ts';
import type { SendRecord } from '../domain/sending/send-outcome.ts';

/**
 * SQS caps a message's visibility at 12 h from when it was received; the margin covers the
 * time the batch already ran.
 */
export const MAX_DEFER_SECONDS = 12 * 3600 - 15 * 60;

/** The send queue's own messages: deferring one sets its visibility timeout. */
export function sqsJobQueue(client: SQSClient, queueUrl: string): JobQueue {
  return {
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
