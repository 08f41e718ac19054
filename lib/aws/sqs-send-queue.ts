import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { chunk, mapWithConcurrency } from '../concurrency.ts';
import type { SendJob } from '../domain/send-job.ts';

const MAX_ATTEMPTS = 6;

/** SQS's longest per-message delay. */
export const MAX_DELAY_SECONDS = 900;

/** A job to queue, held back `delaySeconds` (until its token's cooldown is over). */
export interface QueuedJob {
  job: SendJob;
  delaySeconds: number;
}

/**
 * Puts send jobs on the send queue, 10 per call; failed entries are retried, never dropped.
 * `delayScale` shrinks delays for a local clock that runs faster than real time.
 */
export function sqsSendQueue(
  client: SQSClient,
  queueUrl: string,
  options: { delayScale?: number } = {},
) {
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
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
