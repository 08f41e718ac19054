import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mapWithConcurrency } from '../concurrency.ts';
import type { ContactEraser, ErasedCounts } from '../domain/admin/ports.ts';
import { queryPartition } from './dynamo-query.ts';
import { keys, topicIdOf } from './keys.ts';

/**
 * Erases one person of one Page: token directory entries first (found through the
 * subscriptions that name them), then every item under the person's partition. Repeats until
 * the partition reads empty, so an item written meanwhile is not left behind.
 */
export function dynamoContactEraser(client: DynamoDBDocumentClient, table: string): ContactEraser {
  const erased = async (key: Record<string, string>, condition?: Record<string, string>) => {
    try {
      const answer = await client.send(
        new DeleteCommand({
          TableName: table,
          Key: key,
          ReturnValues: 'ALL_OLD',
          ...(condition && {
            // Only the entry that points at this person.
            ConditionExpression: 'pageId = :pageId AND psid = :psid',
            ExpressionAttributeValues: { ':pageId': condition.pageId, ':psid': condition.psid },
          }),
        }),
      );
      return answer.Attributes !== undefined;
    } catch (error: unknown) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  };
  return {
    async erase(pageId, psid) {
      const counts: ErasedCounts = { subscriptions: 0, contact: 0, tokens: 0, other: 0 };
      const { pk } = keys.contact(pageId, psid);
      for (let round = 0; round < 5; round++) {
        const items = await queryPartition(client, table, pk);
        if (items.length === 0) return counts;
        const tokens = items.flatMap((item) =>
          typeof item.token === 'string' && topicIdOf(String(item.sk)) !== undefined
            ? [item.token]
            : [],
        );
        const tokenResults = await mapWithConcurrency(tokens, 8, (token) =>
          erased(keys.token(token), { pageId, psid }),
        );
        counts.tokens += tokenResults.filter(Boolean).length;
        await mapWithConcurrency(items, 8, async (item) => {
          const sk = String(item.sk);
          if (!(await erased({ pk, sk }))) return;
          if (topicIdOf(sk) !== undefined) counts.subscriptions++;
          else if (sk === keys.contact(pageId, psid).sk) counts.contact++;
          else counts.other++;
        });
      }
      throw new Error('the contact kept being written while it was erased');
    },
  };
}
