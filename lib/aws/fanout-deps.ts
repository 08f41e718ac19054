import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { FanoutDeps } from '../domain/fanout/run-fanout.ts';
import type { Log } from '../log.ts';
import { dynamoBroadcasts } from './dynamo-broadcasts.ts';
import { dynamoCatalog } from './dynamo-catalog.ts';
import { dynamoEditionReads } from './dynamo-edition-reads.ts';
import { dynamoDueIndex, dynamoFanoutRuns } from './dynamo-fanout-store.ts';
import { sqsSendQueue } from './sqs-send-queue.ts';

/** The fan-out's ports, except the per-invocation clock of remaining time. */
export function fanoutDeps(
  clients: { dynamo: DynamoDBDocumentClient; sqs: SQSClient },
  config: { table: string; queueUrl: string; lookbackHours: number; delayScale?: number },
  parts: { continuations: FanoutDeps['continuations']; log: Log },
): Omit<FanoutDeps, 'timeLeft'> {
  return {
    catalog: dynamoCatalog(clients.dynamo, config.table),
    dueIndex: dynamoDueIndex(clients.dynamo, config.table),
    queue: sqsSendQueue(clients.sqs, config.queueUrl, {
      ...(config.delayScale !== undefined && { delayScale: config.delayScale }),
    }),
    runs: dynamoFanoutRuns(clients.dynamo, config.table),
    continuations: parts.continuations,
    log: parts.log,
    lookbackMs: config.lookbackHours * 3_600_000,
    concurrency: 16,
    reserveMs: 30_000,
    editions: dynamoEditionReads(clients.dynamo, config.table),
    broadcasts: dynamoBroadcasts(clients.dynamo, config.table),
  };
}
