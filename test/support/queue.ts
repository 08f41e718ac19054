import { randomUUID } from 'node:crypto';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { createSqsClient } from '#lib/aws/clients.ts';

/** A fresh queue in fauxqs for one test file. */
export async function createTestQueue(prefix: string) {
  const client = createSqsClient();
  const answer = await client.send(
    new CreateQueueCommand({ QueueName: `${prefix}-${randomUUID().slice(0, 8)}` }),
  );
  if (!answer.QueueUrl) throw new Error('no queue url');
  return { client, queueUrl: answer.QueueUrl };
}

/** Receives and deletes everything now visible on a queue; returns the bodies parsed. */
export async function drainQueue(
  queue: Awaited<ReturnType<typeof createTestQueue>>,
): Promise<unknown[]> {
  const bodies: unknown[] = [];
  for (;;) {
    const answer = await queue.client.send(
      new ReceiveMessageCommand({ QueueUrl: queue.queueUrl, MaxNumberOfMessages: 10 }),
    );
    const messages = answer.Messages ?? [];
    if (messages.length === 0) return bodies;
    for (const message of messages) bodies.push(JSON.parse(message.Body ?? 'null'));
    await queue.client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queue.queueUrl,
        Entries: messages.map((message, i) => ({
          Id: String(i),
          ReceiptHandle: message.ReceiptHandle ?? '',
        })),
      }),
    );
  }
}
