import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Log } from '#lib/log.ts';
import { lambdaContext } from './api-gateway.ts';

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/** Feeds a queue to a handler like the Lambda event source mapping does. */
export interface QueuePoller {
  /** Stops receiving, lets in-flight batches finish. */
  stop(): Promise<void>;
  /** Batches handled so far. */
  readonly batches: number;
  /** Batches received and not done yet (handler running or messages not yet deleted). */
  readonly running: number;
}

/**
 * `maxConcurrency` pollers each receive up to `batchSize` messages, invoke the handler and
 * delete the messages it did not report as failed; failed ones come back after their
 * visibility timeout and reach the DLQ by the queue's own redrive policy.
 */
export function startQueuePoller(options: {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  handler: SqsHandler;
  batchSize: number;
  maxConcurrency: number;
  functionTimeoutMs: number;
  log: Log;
  onBatch?: (records: readonly SQSRecord[]) => void;
}): QueuePoller {
  const { sqs, queueUrl, handler, log } = options;
  let stopped = false;
  let batches = 0;
  let running = 0;
  const abort = new AbortController();

  const handle = async (messages: Message[]) => {
    const records = messages.map(
      (message): SQSRecord => ({
        messageId: message.MessageId ?? '',
        receiptHandle: message.ReceiptHandle ?? '',
        body: message.Body ?? '',
        attributes: {
          ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount ?? '1',
          SentTimestamp: message.Attributes?.SentTimestamp ?? '0',
          SenderId: message.Attributes?.SenderId ?? 'local',
          ApproximateFirstReceiveTimestamp:
            message.Attributes?.ApproximateFirstReceiveTimestamp ?? '0',
        },
        messageAttributes: {},
        md5OfBody: message.MD5OfBody ?? '',
        eventSource: 'aws:sqs',
        eventSourceARN: options.queueArn,
        awsRegion: 'us-east-1',
      }),
    );
    options.onBatch?.(records);
    batches++;
    let failed = new Set(records.map((record) => record.messageId));
    try {
      const response = await handler(
        { Records: records },
        lambdaContext('sender', options.functionTimeoutMs),
      );
      failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
    } catch (error: unknown) {
      // A thrown batch is retried whole, as the event source mapping does.
      log.error('sender batch failed', {
        error: error instanceof Error ? error.message : String(error),
      });
    }
    const done = records.filter((record) => !failed.has(record.messageId));
    if (done.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: done.map((record, index) => ({
            Id: String(index),
            ReceiptHandle: record.receiptHandle,
          })),
        }),
      );
    }
  };

  const poll = async () => {
    while (!stopped) {
      try {
        const answer = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: options.batchSize,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['All'],
          }),
          { abortSignal: abort.signal },
        );
        const messages = answer.Messages ?? [];
        if (messages.length === 0) continue;
        running++;
        try {
          await handle(messages);
        } finally {
          running--;
        }
      } catch (error: unknown) {
        if (stopped) return;
        log.error('send queue poll failed', {
          error: error instanceof Error ? error.message : String(error),
        });
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  };

  const workers = Array.from({ length: options.maxConcurrency }, poll);
  return {
    get batches() {
      return batches;
    },
    get running() {
      return running;
    },
    async stop() {
      stopped = true;
      abort.abort();
      await Promise.all(workers);
    },
  };
}
