import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { AdminSubscriptionStore } from '../domain/admin/ports.ts';
import { InvalidInputError } from '../domain/errors.ts';
import type { SubscriptionKey } from '../domain/subscription.ts';
import { batchGet } from './dynamo-batch.ts';
import { toSubscription } from './dynamo-subscription-store.ts';
import { duePartitionOf, keys, placementOf, psidOf, subscriptionKeyOf } from './keys.ts';
import { TABLE } from './table-definition.ts';

const positionSchema = z.strictObject({
  pk: z.string(),
  sk: z.string(),
  [TABLE.pageIndex.partitionKey]: z.string(),
  [TABLE.pageIndex.sortKey]: z.string(),
});

/** A Page's subscriptions through the keys-only Page index, and their due-index placement. */
export function dynamoPageIndex(
  client: DynamoDBDocumentClient,
  table: string,
): AdminSubscriptionStore {
  const { pageIndex, dueIndex } = TABLE;
  return {
    async listKeys({ pageId, topicId, limit, startAfter }) {
      const answer = await client.send(
        new QueryCommand({
          TableName: table,
          IndexName: pageIndex.name,
          KeyConditionExpression:
            topicId === undefined
              ? '#subPage = :pageId'
              : '#subPage = :pageId AND begins_with(#subSort, :prefix)',
          ExpressionAttributeNames: {
            '#subPage': pageIndex.partitionKey,
            ...(topicId !== undefined && { '#subSort': pageIndex.sortKey }),
          },
          ExpressionAttributeValues: {
            ':pageId': pageId,
            ...(topicId !== undefined && { ':prefix': keys.pageIndexTopicPrefix(topicId) }),
          },
          Limit: limit,
          ...(startAfter && { ExclusiveStartKey: { ...startAfter } }),
        }),
      );
      const found: SubscriptionKey[] = [];
      for (const item of answer.Items ?? []) {
        const key = subscriptionKeyOf(pageId, { pk: String(item.pk), sk: String(item.sk) });
        // `a#` also begins the sort keys of a topic `a#b`.
        if (!key || (topicId !== undefined && key.topicId !== topicId)) continue;
        found.push(key);
      }
      const next = answer.LastEvaluatedKey;
      return {
        keys: found,
        ...(next && { next: positionSchema.parse(next) }),
      };
    },

    checkPosition(position, listing) {
      const parsed = positionSchema.safeParse(position);
      const valid =
        parsed.success &&
        parsed.data[pageIndex.partitionKey] === listing.pageId &&
        psidOf(listing.pageId, parsed.data.pk) !== undefined &&
        (listing.topicId === undefined ||
          String(parsed.data[pageIndex.sortKey]).startsWith(
            keys.pageIndexTopicPrefix(listing.topicId),
          ));
      if (!parsed.success || !valid) {
        throw new InvalidInputError('cursor: not a cursor of this listing');
      }
      return parsed.data;
    },

    async getIndexed(subscriptionKeys) {
      const items = await batchGet(client, table, subscriptionKeys.map(keys.subscription));
      return items.map((item) => {
        const subscription = toSubscription(item);
        const partition = item[dueIndex.partitionKey];
        const placement =
          typeof partition === 'string' ? placementOf(subscription, partition) : undefined;
        return { subscription, ...(placement && { placement }) };
      });
    },

    async placeDue(subscription, placement, version) {
      try {
        await client.send(
          new UpdateCommand({
            TableName: table,
            Key: keys.subscription(subscription),
            UpdateExpression:
              'SET #duePk = :duePk, #dueSk = :dueSk, #subPage = :subPage, #subSort = :subSort ADD #version :one',
            // The optimistic lock every writer bumps: a write since the read wins.
            ConditionExpression:
              version === undefined
                ? 'attribute_exists(pk) AND attribute_not_exists(#version)'
                : '#version = :version',
            ExpressionAttributeNames: {
              '#duePk': dueIndex.partitionKey,
              '#dueSk': dueIndex.sortKey,
              '#subPage': pageIndex.partitionKey,
              '#subSort': pageIndex.sortKey,
              '#version': 'version',
            },
            ExpressionAttributeValues: {
              ':duePk': duePartitionOf(subscription, placement),
              ':dueSk': subscription.psid,
              ':subPage': subscription.pageId,
              ':subSort': keys.pageIndexSort(subscription),
              ':one': 1,
              ...(version !== undefined && { ':version': version }),
            },
          }),
        );
        return 'saved';
      } catch (error: unknown) {
        if (error instanceof ConditionalCheckFailedException) return 'conflict';
        throw error;
      }
    },
  };
}
