import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { WebhookDeliveries } from '../domain/admin/diagnostics.ts';
import type { DeliveryLog } from '../domain/intake/ingest-delivery.ts';
import { keys } from './keys.ts';

/** This container writes a Page's item at most once per this long. */
const WRITE_EVERY_MS = 60_000;

/**
 * When the webhook last took a signed delivery for each Page (`WEBHOOK#<pageId>` / `LAST`):
 * one small item per Page, written at most once a minute per container and only moved forward,
 * so a busy webhook pays almost nothing for it.
 */
export function dynamoWebhookDeliveries(
  client: DynamoDBDocumentClient,
  table: string,
): DeliveryLog & WebhookDeliveries {
  const written = new Map<string, number>();
  return {
    async recordDelivery(pageIds, at) {
      const due = pageIds.filter(
        (pageId) => at - (written.get(pageId) ?? -Infinity) >= WRITE_EVERY_MS,
      );
      await Promise.all(
        due.map(async (pageId) => {
          try {
            await client.send(
              new UpdateCommand({
                TableName: table,
                Key: keys.webhookDelivery(pageId),
                UpdateExpression: 'SET lastDeliveryAt = :at, pageId = :pageId',
                ConditionExpression: 'attribute_not_exists(lastDeliveryAt) OR lastDeliveryAt < :at',
                ExpressionAttributeValues: { ':at': at, ':pageId': pageId },
              }),
            );
          } catch (error: unknown) {
            if (!(error instanceof ConditionalCheckFailedException)) throw error;
          }
          written.set(pageId, at);
        }),
      );
    },

    async lastDeliveryAt(pageId) {
      const answer = await client.send(
        new GetCommand({ TableName: table, Key: keys.webhookDelivery(pageId) }),
      );
      const at = answer.Item?.lastDeliveryAt;
      return typeof at === 'number' ? at : undefined;
    },
  };
}
