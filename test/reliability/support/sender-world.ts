import { randomUUID } from 'node:crypto';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '#lib/aws/keys.ts';
import type { Page } from '#lib/domain/page.ts';
import type { SendJob } from '#lib/domain/send-job.ts';
import { slotAtOrBefore } from '#lib/domain/slots.ts';
import type { Subscription } from '#lib/domain/subscription.ts';
import { createSendQueues } from '../../../local/queues.ts';
import { putPageWithTopic as putPageAndTopic } from '../../support/sender-harness.ts';

/** What every sender-level reliability test sends: a daily topic at 09:00, Paris time. */
export const TOPIC_ID = 'daily';
export const RULE = { cadence: 'DAILY', sendTime: '09:00' } as const;
export const ZONE = 'Europe/Paris';
const DAY_MS = 86_400_000;

/** The latest 09:00 Paris slot by the wall clock: what the jobs are for. */
export function currentSlot(): number {
  return slotAtOrBefore(RULE, ZONE, Date.now());
}

/** Registers a Page and its daily topic in the table. */
export async function putPageWithTopic(
  client: DynamoDBDocumentClient,
  table: string,
  page: Page,
): Promise<void> {
  await putPageAndTopic(client, table, page, {
    topicId: TOPIC_ID,
    title: 'Daily deals',
    ...RULE,
    message: { text: 'Today only' },
  });
}

/** An active subscription, opted in a month ago and never sent, stored as the webhook would. */
export async function putSubscription(
  client: DynamoDBDocumentClient,
  table: string,
  fields: { pageId: string; psid: string; token: string },
): Promise<Subscription> {
  const subscription: Subscription = {
    ...fields,
    topicId: TOPIC_ID,
    status: 'active',
    timezone: ZONE,
    lastEventAt: Date.now() - 30 * DAY_MS,
    activeSince: Date.now() - 30 * DAY_MS,
    optedInAt: Date.now() - 30 * DAY_MS,
    version: 1,
  };
  await client.send(
    new PutCommand({
      TableName: table,
      Item: { ...keys.subscription(subscription), ...subscription },
    }),
  );
  return subscription;
}

/** The job a fan-out would queue for this subscription's current slot. */
export function aJob(subscription: { pageId: string; psid: string }): SendJob {
  return {
    pageId: subscription.pageId,
    psid: subscription.psid,
    topicId: TOPIC_ID,
    slot: currentSlot(),
    scheduledTime: Date.now() - 60_000,
  };
}

/** A send queue with its DLQ, redriven after `maxReceiveCount` receives. */
export async function createQueuePair(
  sqs: SQSClient,
  prefix: string,
  options: { maxReceiveCount: number; visibilityTimeoutSeconds: number },
) {
  return createSendQueues(sqs, `${prefix}-${randomUUID().slice(0, 8)}`, {
    ...options,
    dlqRetentionDays: 1,
  });
}

/** Puts message bodies on a queue, ten per call, in the order given. */
export async function enqueue(sqs: SQSClient, queueUrl: string, bodies: readonly string[]) {
  for (let at = 0; at < bodies.length; at += 10) {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: bodies.slice(at, at + 10).map((body, index) => ({
          Id: String(index),
          MessageBody: body,
        })),
      }),
    );
  }
}

/** Messages on a queue, visible or in flight. */
export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const answer = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(answer.Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(answer.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

/** Receives and deletes everything visible on a queue; returns the messages. */
export async function drain(sqs: SQSClient, queueUrl: string): Promise<Message[]> {
  const drained: Message[] = [];
  for (;;) {
    const answer = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    const messages = answer.Messages ?? [];
    if (messages.length === 0) return drained;
    drained.push(...messages);
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.map((message, index) => ({
          Id: String(index),
          ReceiptHandle: message.ReceiptHandle ?? '',
        })),
      }),
    );
  }
}
