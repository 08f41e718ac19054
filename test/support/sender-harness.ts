import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { dynamoCatalog } from '#lib/aws/dynamo-catalog.ts';
import { senderDeps } from '#lib/aws/sender-deps.ts';
import { systemClock } from '#lib/clock.ts';
import type { Page } from '#lib/domain/page.ts';
import { DEFAULT_SENDER_OPTIONS, type SenderOptions } from '#lib/domain/sending/ports.ts';
import type { Topic } from '#lib/domain/topic.ts';
import { graphClient } from '#lib/graph/graph-client.ts';
import type { Log } from '#lib/log.ts';
import { createSenderHandler } from '../../functions/sender.ts';

/** The Graph API version the harness's sender calls. */
export const GRAPH_VERSION = 'v24.0';

/** The sender Lambda's handler, wired as `functions/sender.ts` wires it, on a test's table, queue and Graph. */
export function aSenderHandler(wiring: {
  dynamo: DynamoDBDocumentClient;
  sqs: SQSClient;
  table: string;
  queueUrl: string;
  /** Where the Graph API answers: a stand-in or the Meta simulator. */
  graphUrl: string;
  log: Log;
  options?: Partial<SenderOptions>;
  /** The Graph client's timeout; its own default when absent. */
  timeoutMs?: number;
}) {
  const { dynamo, sqs, table, queueUrl, graphUrl, timeoutMs } = wiring;
  return createSenderHandler(
    { ...DEFAULT_SENDER_OPTIONS, ...wiring.options },
    senderDeps(
      { dynamo, sqs },
      { table, queueUrl, burst: DEFAULT_SENDER_OPTIONS.burst },
      {
        graph: graphClient({
          baseUrl: graphUrl,
          version: GRAPH_VERSION,
          ...(timeoutMs !== undefined && { timeoutMs }),
        }),
        clock: systemClock,
        log: wiring.log,
      },
    ),
  );
}

/**
 * Quiet hours that are none (equal start and end). The harness's sender runs on the wall
 * clock, so a test under the default 21:00-08:00 would pass or fail by the time of day it runs.
 */
export const NO_QUIET_HOURS = { start: '00:00', end: '00:00' } as const;

/** Registers a Page (without quiet hours unless it names some) and one topic of it, as the admin API would. */
export async function putPageWithTopic(
  client: DynamoDBDocumentClient,
  table: string,
  page: Page,
  topic: Omit<Topic, 'pageId'>,
): Promise<void> {
  const catalog = dynamoCatalog(client, table);
  await Promise.all([
    catalog.putPage({ quietHours: NO_QUIET_HOURS, ...page }),
    catalog.putTopic({ ...topic, pageId: page.pageId }),
  ]);
}

/** The record the SQS event source mapping would hand the sender for a received message. */
export function sqsRecordOf(message: Message, receiveCount?: number): SQSRecord {
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: String(
        receiveCount ?? message.Attributes?.ApproximateReceiveCount ?? '1',
      ),
      SentTimestamp: message.Attributes?.SentTimestamp ?? '0',
      SenderId: 'test',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:send',
    awsRegion: 'us-east-1',
  };
}
