import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { chunk, mapWithConcurrency } from '../concurrency.ts';
import type { SendJob } from '../domain/send-job.ts';

const MAX_ATTEMPTS = 6;

/** Puts send jobs on the send queue, 10 per call; failed entries are retried, never dropped. */
export function sqsSendQueue(client: SQSClient, queueUrl: string) {
  return {
    async enqueue(jobs: readonly SendJob[]): Promise<void> {
      await mapWithConcurrency(chunk(jobs, 10), 8, async (batch) => {
        let pending = batch.map((job, index) => ({
          Id: String(index),
          MessageBody: JSON.stringify(job),
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
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
