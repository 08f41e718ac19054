import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  paginateQuery,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { mapWithConcurrency } from '../concurrency.ts';
import type {
  AdminCatalog,
  AdminSubscriptionStore,
  ContactEraser,
  ErasedCounts,
  OptInClaims,
  StatsReader,
} from '../domain/admin/ports.ts';
import { InvalidInputError } from '../domain/errors.ts';
import type { Page } from '../domain/page.ts';
import { STATS_COUNTERS } from '../domain/ports.ts';
import type { SubscriptionKey } from '../domain/subscription.ts';
import { batchGet } from './dynamo-batch.ts';
import { dynamoCatalog } from './dynamo-catalog.ts';
import { queryPartition } from './dynamo-query.ts';
import { pageIndexSort, toSubscription } from './dynamo-subscription-store.ts';
import { duePartitionOf, keys, placementOf } from './keys.ts';
import { TABLE } from './table-definition.ts';

/** The catalog with the listings operators need: Pages from the registry, a Page's topics. */
export function dynamoAdminCatalog(client: DynamoDBDocumentClient, table: string): AdminCatalog {
  const catalog = dynamoCatalog(client, table);
  const queryAll = (pk: string) => queryPartition(client, table, pk);
  return {
    getPage: catalog.getPage,
    getTopic: catalog.getTopic,
    putPage: catalog.putPage,
    putTopic: catalog.putTopic,

    async listPages() {
      const registry = await queryAll(keys.pageRegistry('').pk);
      const pageIds = registry.map((item) => z.string().parse(item.pageId));
      const pages = await mapWithConcurrency(pageIds, 8, (pageId) => catalog.getPage(pageId));
      return pages.filter((page): page is Page => page !== undefined);
    },

    async listTopics(pageId) {
      // The Page's partition: its config, topics and topic zones, as fromPageItems reads them.
      const items = await queryAll(keys.page(pageId).pk);
      return catalog.fromPageItems(pageId, items)?.topics ?? [];
    },
  };
}

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
            ...(topicId !== undefined && { ':prefix': `${topicId}#` }),
          },
          Limit: limit,
          ...(startAfter && { ExclusiveStartKey: { ...startAfter } }),
        }),
      );
      const found: SubscriptionKey[] = [];
      const personPrefix = `SUB#${pageId}#`;
      for (const item of answer.Items ?? []) {
        const pk = String(item.pk);
        const sk = String(item.sk);
        if (!pk.startsWith(personPrefix) || !sk.startsWith('TOPIC#')) continue;
        const key = { pageId, psid: pk.slice(personPrefix.length), topicId: sk.slice(6) };
        // `a#` also begins the sort keys of a topic `a#b`.
        if (topicId !== undefined && key.topicId !== topicId) continue;
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
        parsed.data.pk.startsWith(`SUB#${listing.pageId}#`) &&
        (listing.topicId === undefined ||
          String(parsed.data[pageIndex.sortKey]).startsWith(`${listing.topicId}#`));
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
              ':subSort': pageIndexSort(subscription),
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

/** The attribute of the contact record holding when an opt-in request for a title was made. */
function optInAttribute(title: string): string {
  return `optInRequest#${title}`;
}

/** Opt-in requests recorded on the contact record (`SUB#<pageId>#<psid>` / `CONTACT`). */
export function dynamoOptInClaims(client: DynamoDBDocumentClient, table: string): OptInClaims {
  return {
    async claim({ pageId, psid, title, at, windowStart, repeatBefore }) {
      try {
        const answer = await client.send(
          new UpdateCommand({
            TableName: table,
            Key: keys.contact(pageId, psid),
            UpdateExpression: 'SET #request = :at',
            // Inside the 24 h window, and no request for this title in the last 7 days. A
            // missing contact record fails the first test: no record is created.
            ConditionExpression:
              'lastInboundAt >= :windowStart AND (attribute_not_exists(#request) OR #request <= :repeatBefore)',
            ExpressionAttributeNames: { '#request': optInAttribute(title) },
            ExpressionAttributeValues: {
              ':at': at,
              ':windowStart': windowStart,
              ':repeatBefore': repeatBefore,
            },
            ReturnValues: 'ALL_OLD',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        const previous = answer.Attributes?.[optInAttribute(title)];
        return { claimed: true, ...(typeof previous === 'number' && { previous }) };
      } catch (error: unknown) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        // The item comes back in DynamoDB's own encoding here.
        const lastInbound = numberOf(error.Item?.lastInboundAt);
        const requestedAt = numberOf(error.Item?.[optInAttribute(title)]);
        if (lastInbound === undefined || lastInbound < windowStart || requestedAt === undefined) {
          return {
            claimed: false,
            reason: 'outside_window',
            ...(lastInbound !== undefined && { lastInboundAt: lastInbound }),
          };
        }
        return { claimed: false, reason: 'too_soon', requestedAt };
      }
    },

    async release({ pageId, psid, title, claimedAt, previous }) {
      try {
        await client.send(
          new UpdateCommand({
            TableName: table,
            Key: keys.contact(pageId, psid),
            UpdateExpression:
              previous === undefined ? 'REMOVE #request' : 'SET #request = :previous',
            // Only our own claim: a later request's record is not ours to undo.
            ConditionExpression: '#request = :claimedAt',
            ExpressionAttributeNames: { '#request': optInAttribute(title) },
            ExpressionAttributeValues: {
              ':claimedAt': claimedAt,
              ...(previous !== undefined && { ':previous': previous }),
            },
          }),
        );
      } catch (error: unknown) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    },
  };
}

function numberOf(value: { N?: string } | undefined): number | undefined {
  const parsed = value?.N === undefined ? Number.NaN : Number(value.N);
  return Number.isFinite(parsed) ? parsed : undefined;
}

/** Daily counters of a topic, read back by day range. */
export function dynamoStatsReader(client: DynamoDBDocumentClient, table: string): StatsReader {
  const counters = z.object(
    Object.fromEntries(STATS_COUNTERS.map((counter) => [counter, z.number().optional()])),
  );
  return {
    async readDays(pageId, topicId, from, to) {
      const { pk } = keys.stats(pageId, topicId, from);
      const days = [];
      for await (const page of paginateQuery(
        { client },
        {
          TableName: table,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: {
            ':pk': pk,
            ':from': keys.stats(pageId, topicId, from).sk,
            ':to': keys.stats(pageId, topicId, to).sk,
          },
        },
      )) {
        for (const item of page.Items ?? []) {
          days.push({
            topicId,
            day: String(item.sk).slice('DAY#'.length),
            counts: counters.parse(item),
          });
        }
      }
      return days;
    },
  };
}

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
          typeof item.token === 'string' && String(item.sk).startsWith('TOPIC#')
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
          if (sk.startsWith('TOPIC#')) counts.subscriptions++;
          else if (sk === keys.contact(pageId, psid).sk) counts.contact++;
          else counts.other++;
        });
      }
      throw new Error('the contact kept being written while it was erased');
    },
  };
}
