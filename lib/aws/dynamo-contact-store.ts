import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ContactStore } from '../domain/ports.ts';
import { keys } from './keys.ts';

/** Per-person contact facts: when they last wrote to the Page. */
export function dynamoContactStore(client: DynamoDBDocumentClient, table: string): ContactStore {
  return {
    async recordInbound(pageId, psid, at) {
      try {
        await client.send(
          new UpdateCommand({
            TableName: table,
            Key: keys.contact(pageId, psid),
            UpdateExpression: 'SET lastInboundAt = :at, pageId = :pageId, psid = :psid',
            // Keep the newest: deliveries arrive out of order.
            ConditionExpression: 'attribute_not_exists(lastInboundAt) OR lastInboundAt < :at',
            ExpressionAttributeValues: { ':at': at, ':pageId': pageId, ':psid': psid },
          }),
        );
      } catch (error: unknown) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    },
  };
}
