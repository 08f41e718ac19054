import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { PagePolicyStore } from '../domain/safety/page-policy.ts';
import { keys } from './keys.ts';

/** Meta's policy events on the Page's config item (`policy`), and the pause they bring. */
export function dynamoPagePolicy(client: DynamoDBDocumentClient, table: string): PagePolicyStore {
  return {
    async recordPolicy(pageId, policy, pausedReason) {
      const pause = pausedReason !== undefined;
      try {
        await client.send(
          new UpdateCommand({
            TableName: table,
            Key: keys.page(pageId),
            UpdateExpression: pause
              ? 'SET policy = :policy, #status = :paused, pausedReason = :reason, pausedAt = :at'
              : 'SET policy = :policy',
            // Only a registered Page, and only a newer event: a duplicate or a late one changes nothing.
            ConditionExpression:
              'attribute_exists(pk) AND (attribute_not_exists(policy) OR policy.#at < :at)',
            ExpressionAttributeNames: { '#at': 'at', ...(pause && { '#status': 'status' }) },
            ExpressionAttributeValues: {
              ':policy': policy,
              ':at': policy.at,
              ...(pause && { ':paused': 'paused', ':reason': pausedReason }),
            },
          }),
        );
        return true;
      } catch (error: unknown) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw error;
      }
    },
  };
}
