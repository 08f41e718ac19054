import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../clock.ts';
import { cachedCatalog, cachedEditionReads } from '../domain/read-cache.ts';
import type { GraphClient, SenderDeps } from '../domain/sending/ports.ts';
import type { Log } from '../log.ts';
import { dynamoBroadcasts } from './dynamo-broadcasts.ts';
import { dynamoCatalog } from './dynamo-catalog.ts';
import { dynamoConversationCounter } from './dynamo-conversation-counts.ts';
import { dynamoEditionReads } from './dynamo-edition-reads.ts';
import { dynamoRateBucket } from './dynamo-rate-bucket.ts';
import { dynamoSendStore } from './dynamo-send-store.ts';
import { dynamoStatsStore } from './dynamo-stats-store.ts';
import { dynamoSubscriptionStore } from './dynamo-subscription-store.ts';
import { dynamoTopicSafety } from './dynamo-topic-safety.ts';
import { dynamoTrackedSends } from './dynamo-tracked-sends.ts';
import { sqsSendQueue } from './sqs-send-queue.ts';

/** The sender's ports: the one table, the send queue it consumes, and the Graph API. */
export function senderDeps(
  clients: { dynamo: DynamoDBDocumentClient; sqs: SQSClient },
  config: { table: string; queueUrl: string; burst: number },
  parts: {
    graph: GraphClient;
    clock: Clock;
    log: Log;
    sleep?: (ms: number) => Promise<void>;
    random?: () => number;
  },
): SenderDeps {
  const { dynamo, sqs } = clients;
  // Read once per container for a few seconds, not per batch; what this sender changes itself
  // (a Page paused or held, a topic paused by the breaker) it reads again at once.
  const catalog = cachedCatalog(dynamoCatalog(dynamo, config.table), parts.clock);
  const sends = dynamoSendStore(dynamo, config.table);
  const safety = dynamoTopicSafety(dynamo, config.table);
  return {
    subscriptions: dynamoSubscriptionStore(dynamo, config.table),
    catalog,
    sends: {
      ...sends,
      pausePage: (pageId, reason, at) =>
        sends.pausePage(pageId, reason, at).finally(() => catalog.forgetPage(pageId)),
      holdPage: (pageId, until, reason) =>
        sends.holdPage(pageId, until, reason).finally(() => catalog.forgetPage(pageId)),
    },
    rate: dynamoRateBucket(dynamo, config.table, { burst: config.burst }),
    queue: sqsSendQueue(sqs, config.queueUrl),
    stats: dynamoStatsStore(dynamo, config.table),
    tracked: dynamoTrackedSends(dynamo, config.table),
    safety: {
      ...safety,
      pauseTopic: (pageId, topicId, pause) =>
        safety
          .pauseTopic(pageId, topicId, pause)
          .finally(() => catalog.forgetTopic(pageId, topicId)),
    },
    graph: parts.graph,
    clock: parts.clock,
    log: parts.log,
    sleep: parts.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    random: parts.random ?? Math.random,
    editions: cachedEditionReads(dynamoEditionReads(dynamo, config.table), parts.clock),
    broadcasts: dynamoBroadcasts(dynamo, config.table),
    conversations: dynamoConversationCounter(dynamo, config.table),
  };
}
