import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mapWithConcurrency } from '../concurrency.ts';
import type { StatsStore } from '../domain/ports.ts';
import { keys } from './keys.ts';

/** Daily counters per topic, added atomically. */
export function dynamoStatsStore(client: DynamoDBDocumentClient, table: string): StatsStore {
  return {
    async add(increments) {
      await mapWithConcurrency(increments, 16, async ({ pageId, topicId, day, counts }) => {
        const entries = Object.entries(counts).filter(([, by]) => by !== undefined && by !== 0);
        if (entries.length === 0) return;
        await client.send(
          new UpdateCommand({
            TableName: table,
            Key: keys.stats(pageId, topicId, day),
            UpdateExpression: `ADD ${entries.map(([name]) => `#${name} :${name}`).join(', ')} SET pageId = :pageId, topicId = :topicId, #day = :day`,
            ExpressionAttributeNames: {
              '#day': 'day',
              ...Object.fromEntries(entries.map(([name]) => [`#${name}`, name])),
            },
            ExpressionAttributeValues: {
              ':pageId': pageId,
              ':topicId': topicId,
              ':day': day,
              ...Object.fromEntries(entries.map(([name, by]) => [`:${name}`, by])),
            },
          }),
        );
      });
    },
  };
}
