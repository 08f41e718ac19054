import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ContentSecretStore } from '../domain/content-source.ts';
import {
  CONTENT_SOURCE_DEFAULTS,
  type ContentSourceClient,
} from '../domain/fanout/content-source.ts';
import type { FanoutDeps } from '../domain/fanout/run-fanout.ts';
import type { Log } from '../log.ts';
import { dynamoBroadcasts } from './dynamo-broadcasts.ts';
import { dynamoCatalog } from './dynamo-catalog.ts';
import { dynamoContentEditions } from './dynamo-content-editions.ts';
import { dynamoEditionReads } from './dynamo-edition-reads.ts';
import { dynamoDueIndex, dynamoFanoutRuns } from './dynamo-fanout-store.ts';
import { sqsSendQueue } from './sqs-send-queue.ts';

/** The fan-out's ports, except the per-invocation clock of remaining time. */
export function fanoutDeps(
  clients: { dynamo: DynamoDBDocumentClient; sqs: SQSClient },
  config: { table: string; queueUrl: string; lookbackHours: number; delayScale?: number },
  parts: {
    continuations: FanoutDeps['continuations'];
    log: Log;
    /** Where topics' content sources are asked, and their secrets; none without it. */
    contentSources?: ContentSourceParts;
  },
): Omit<FanoutDeps, 'timeLeft'> {
  const { contentSources } = parts;
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
    ...(contentSources && {
      contentSource: {
        ...CONTENT_SOURCE_DEFAULTS,
        client: contentSources.client,
        secrets: contentSources.secrets,
        editions: dynamoContentEditions(clients.dynamo, config.table),
        sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
      },
    }),
    broadcasts: dynamoBroadcasts(clients.dynamo, config.table),
  };
}

/** The content source parts a composition root chooses: Secrets Manager on AWS, the table locally. */
export interface ContentSourceParts {
  client: ContentSourceClient;
  secrets: ContentSecretStore;
  /** Plain http to a loopback host: the local runtime only. */
  allowLoopbackHttp: boolean;
}
