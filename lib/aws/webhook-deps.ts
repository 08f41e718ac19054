import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../clock.ts';
import { topicZoneRecorder } from '../domain/due-placement.ts';
import type { IngestDeps } from '../domain/intake/ingest-delivery.ts';
import { cachedCatalog } from '../domain/read-cache.ts';
import type { Log } from '../log.ts';
import { dynamoCatalog } from './dynamo-catalog.ts';
import { dynamoContactStore } from './dynamo-contact-store.ts';
import { dynamoConversationCounter } from './dynamo-conversation-counts.ts';
import { dynamoEventArchive } from './dynamo-event-archive.ts';
import { dynamoPagePolicy } from './dynamo-page-policy.ts';
import { dynamoStatsStore } from './dynamo-stats-store.ts';
import { dynamoSubscriptionStore } from './dynamo-subscription-store.ts';
import { dynamoTopicSafety } from './dynamo-topic-safety.ts';
import { dynamoTrackedSends } from './dynamo-tracked-sends.ts';
import { dynamoWebhookDeliveries } from './dynamo-webhook-deliveries.ts';

/** The webhook's ports, all on the one table. */
export function webhookDeps(
  client: DynamoDBDocumentClient,
  table: string,
  { clock, log }: { clock: Clock; log: Log },
): IngestDeps {
  const subscriptions = dynamoSubscriptionStore(client, table);
  // A topic's zones only ever grow (nothing removes one): a container writes each once.
  const recordZone = topicZoneRecorder(subscriptions);
  return {
    archive: dynamoEventArchive(client, table),
    deliveries: dynamoWebhookDeliveries(client, table),
    catalog: cachedCatalog(dynamoCatalog(client, table), clock),
    subscriptions: {
      ...subscriptions,
      addTopicZones: async (pageId, topicId, zones) => {
        await Promise.all(zones.map((zone) => recordZone(pageId, topicId, zone)));
      },
    },
    contacts: dynamoContactStore(client, table),
    stats: dynamoStatsStore(client, table),
    tracked: dynamoTrackedSends(client, table),
    safety: dynamoTopicSafety(client, table),
    policies: dynamoPagePolicy(client, table),
    conversations: dynamoConversationCounter(client, table),
    clock,
    log,
  };
}
