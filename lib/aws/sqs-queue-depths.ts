import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { QueueDepths } from '../domain/admin/diagnostics.ts';

/** The dead-letter queues an operator should find empty, by what they hold. */
export interface WatchedQueue {
  /** `send`, `schedule` or `fanout-failure`. */
  name: string;
  url: string;
}

/** Messages waiting in each watched queue (SQS `ApproximateNumberOfMessages`). */
export function sqsQueueDepths(client: SQSClient, queues: readonly WatchedQueue[]): QueueDepths {
  return {
    async depths() {
      return Promise.all(
        queues.map(async ({ name, url }) => {
          try {
            const answer = await client.send(
              new GetQueueAttributesCommand({
                QueueUrl: url,
                AttributeNames: ['ApproximateNumberOfMessages'],
              }),
            );
            const count = Number(answer.Attributes?.ApproximateNumberOfMessages);
            return Number.isFinite(count) ? { name, messages: count } : { name, error: 'no count' };
          } catch (error: unknown) {
            return { name, error: error instanceof Error ? error.name : 'unknown' };
          }
        }),
      );
    },
  };
}

/** The queues among `urls` that are configured, by name. */
export function watchedQueues(urls: Record<string, string | undefined>): WatchedQueue[] {
  return Object.entries(urls).flatMap(([name, url]) => (url === undefined ? [] : [{ name, url }]));
}
