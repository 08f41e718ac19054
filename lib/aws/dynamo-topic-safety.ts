import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { mapWithConcurrency } from '../concurrency.ts';
import type { HourBucket } from '../domain/safety/stop-spike.ts';
import type { TopicSafetyStore } from '../domain/safety/watch-topics.ts';
import { pauseItem } from './dynamo-catalog.ts';
import { updateIfCondition } from './dynamo-conditional.ts';
import { queryKeyRange } from './dynamo-query.ts';
import { keys, safetyHourOf } from './keys.ts';

const HOUR_SECONDS = 3600;
/** A bucket outlives its window by a day; DynamoDB's TTL removes it after that. */
const RETENTION_SECONDS = 48 * HOUR_SECONDS;

const bucketItem = z.object({ sends: z.number().default(0), stops: z.number().default(0) });

/**
 * The stop-spike breaker's items: hourly counts per topic (`SAFETY#<pageId>#<topicId>` /
 * `HOUR#<hour>`, added atomically), and the pause on the topic's own item.
 */
export function dynamoTopicSafety(client: DynamoDBDocumentClient, table: string): TopicSafetyStore {
  return {
    async add(hour, activity) {
      await mapWithConcurrency(activity, 16, async ({ pageId, topicId, sends, stops }) => {
        await client.send(
          new UpdateCommand({
            TableName: table,
            Key: keys.safetyHour(pageId, topicId, hour),
            UpdateExpression:
              'ADD sends :sends, stops :stops SET pageId = :pageId, topicId = :topicId, expiresAt = :expiresAt',
            ExpressionAttributeValues: {
              ':sends': sends,
              ':stops': stops,
              ':pageId': pageId,
              ':topicId': topicId,
              ':expiresAt': (hour + 1) * HOUR_SECONDS + RETENTION_SECONDS,
            },
          }),
        );
      });
    },

    async readHours(pageId, topicId, from, to) {
      const items = await queryKeyRange(
        client,
        table,
        keys.safetyHour(pageId, topicId, from),
        keys.safetyHour(pageId, topicId, to),
      );
      const buckets: HourBucket[] = [];
      for (const item of items) {
        const hour = safetyHourOf(String(item.sk));
        if (hour !== undefined) buckets.push({ hour, ...bucketItem.parse(item) });
      }
      return buckets;
    },

    pauseTopic(pageId, topicId, pause) {
      return updateIfCondition(
        client,
        new UpdateCommand({
          TableName: table,
          Key: keys.topic(pageId, topicId),
          UpdateExpression: 'SET paused = :pause',
          // One pause, one alarm: a topic paused already (or deleted) is left alone.
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(paused)',
          ExpressionAttributeValues: { ':pause': pause },
        }),
      );
    },

    async resumeTopic(pageId, topicId, since) {
      try {
        const { Attributes } = await client.send(
          new UpdateCommand({
            TableName: table,
            Key: keys.topic(pageId, topicId),
            UpdateExpression: 'REMOVE paused SET breakerSince = :since',
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeValues: { ':since': since },
            ReturnValues: 'ALL_OLD',
          }),
        );
        const paused = Attributes?.paused;
        return paused === undefined ? undefined : pauseItem.parse(paused);
      } catch (error: unknown) {
        if (error instanceof ConditionalCheckFailedException) return undefined;
        throw error;
      }
    },
  };
}
