import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../clock.ts';
import type { AdminGraph } from '../domain/admin/graph.ts';
import type { AdminDeps } from '../domain/admin/ports.ts';
import type { FanoutDeps } from '../domain/fanout/run-fanout.ts';
import type { Log } from '../log.ts';
import { dynamoBroadcasts, dynamoTopicZoneReader } from './dynamo-broadcasts.ts';
import { dynamoCatalog } from './dynamo-catalog.ts';
import { dynamoContactEraser } from './dynamo-contact-eraser.ts';
import { dynamoContactStore } from './dynamo-contact-store.ts';
import { dynamoEditionResults } from './dynamo-edition-reads.ts';
import { dynamoEditions } from './dynamo-editions.ts';
import { dynamoPageIndex } from './dynamo-page-index.ts';
import { dynamoPendingUnsubscribes, dynamoReconcileStore } from './dynamo-reconcile-store.ts';
import { dynamoStatsStore } from './dynamo-stats-store.ts';
import { dynamoSubscriptionStore } from './dynamo-subscription-store.ts';
import { dynamoTopicSafety } from './dynamo-topic-safety.ts';
import { dynamoWebhookDeliveries } from './dynamo-webhook-deliveries.ts';
import { type ContentSourceParts, fanoutDeps } from './fanout-deps.ts';
import { sqsQueueDepths, type WatchedQueue } from './sqs-queue-depths.ts';

/**
 * An operator-started fan-out leaves this much of the admin invocation (29 s on AWS) to answer;
 * what it cannot finish goes to the fan-out function as a continuation.
 */
const ADMIN_FANOUT_RESERVE_MS = 5_000;

/** The admin API's ports: the one table, the send queue, the dead-letter queues, the Graph API. */
export function adminDeps(
  clients: { dynamo: DynamoDBDocumentClient; sqs: SQSClient },
  config: {
    table: string;
    queueUrl: string;
    lookbackHours: number;
    /** What the diagnostics expect empty; none when not given. */
    deadLetterQueues?: readonly WatchedQueue[];
  },
  parts: {
    graph: AdminGraph;
    clock: Clock;
    log: Log;
    continuations: FanoutDeps['continuations'];
    /** Topics' content sources: their secrets, the HTTP client, which URLs are allowed. */
    contentSources?: ContentSourceParts;
  },
): AdminDeps {
  const { dynamo } = clients;
  const { contentSources } = parts;
  return {
    catalog: dynamoCatalog(dynamo, config.table),
    subscriptions: dynamoSubscriptionStore(dynamo, config.table),
    pageIndex: dynamoPageIndex(dynamo, config.table),
    optInClaims: dynamoContactStore(dynamo, config.table),
    stats: dynamoStatsStore(dynamo, config.table),
    eraser: dynamoContactEraser(dynamo, config.table),
    reconciles: dynamoReconcileStore(dynamo, config.table),
    pendingUnsubscribes: dynamoPendingUnsubscribes(dynamo, config.table),
    graph: parts.graph,
    webhookDeliveries: dynamoWebhookDeliveries(dynamo, config.table),
    queueDepths: sqsQueueDepths(clients.sqs, config.deadLetterQueues ?? []),
    fanout: {
      ...fanoutDeps(clients, config, {
        continuations: parts.continuations,
        log: parts.log,
        ...(contentSources && { contentSources }),
      }),
      reserveMs: ADMIN_FANOUT_RESERVE_MS,
    },
    clock: parts.clock,
    log: parts.log,
    editions: dynamoEditions(dynamo, config.table),
    editionResults: dynamoEditionResults(dynamo, config.table),
    safety: dynamoTopicSafety(dynamo, config.table),
    ...(contentSources && {
      contentSources: {
        secrets: contentSources.secrets,
        allowLoopbackHttp: contentSources.allowLoopbackHttp,
      },
    }),
    broadcasts: dynamoBroadcasts(dynamo, config.table),
    topicZones: dynamoTopicZoneReader(dynamo, config.table),
  };
}
