import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { mapWithConcurrency } from '../concurrency.ts';
import type { StatsReader } from '../domain/admin/ports.ts';
import { STATS_COUNTERS, type StatsStore } from '../domain/ports.ts';
import { queryKeyRange } from './dynamo-query.ts';
import { dayOf, keys } from './keys.ts';

/** Daily counters per topic (`STATS#<pageId>#<topicId>` / `DAY#<day>`), added atomically. */
export function dynamoStatsStore(
  client: DynamoDBDocumentClient,
  table: string,
): StatsStore & StatsReader {
  const counters = z.object(
    Object.fromEntries(STATS_COUNTERS.map((counter) => [counter, z.number().optional()])),
  );
  return {
    async add(increments) {
      await mapWithConcurrency(
        increments,
        16,
        async ({ pageId, topicId, day, counts, edition }) => {
          const entries = Object.entries(counts).filter(([, by]) => by !== undefined && by !== 0);
          if (entries.length === 0) return;
          await client.send(
            new UpdateCommand({
              TableName: table,
              Key: edition
                ? keys.editionStats(pageId, topicId, day)
                : keys.stats(pageId, topicId, day),
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
        },
      );
    },

    async readDays(pageId, topicId, from, to) {
      const items = await queryKeyRange(
        client,
        table,
        keys.stats(pageId, topicId, from),
        keys.stats(pageId, topicId, to),
      );
      const days = [];
      for (const item of items) {
        const day = dayOf(String(item.sk));
        if (day !== undefined) days.push({ topicId, day, counts: counters.parse(item) });
      }
      return days;
    },
  };
}
