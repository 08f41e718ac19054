import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  paginateQuery,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { Broadcast, BroadcastStore } from '../domain/broadcasts/broadcast.ts';
import { updateIfCondition } from './dynamo-conditional.ts';
import { queryPartition } from './dynamo-query.ts';
import { BROADCAST_COUNTS_PREFIX, BROADCAST_PREFIX, keys, parseTopicZoneEntry } from './keys.ts';

const broadcastItem = z.object({
  pageId: z.string(),
  topicId: z.string(),
  broadcastId: z.string(),
  message: z.record(z.string(), z.unknown()),
  timing: z.union([
    z.object({ date: z.string(), localTime: z.string() }),
    z.object({ now: z.literal(true) }),
  ]),
  createdAt: z.number(),
  firstAt: z.number(),
  lastAt: z.number(),
  startedAt: z.number().optional(),
  doneAt: z.number().optional(),
  cancelledAt: z.number().optional(),
});

/** Attributes of a counts item that are no counter. */
const NOT_COUNTERS = new Set(['pk', 'sk', 'pageId', 'topicId', 'broadcastId']);

/**
 * Broadcasts, `BROADCAST#<pageId>#<topicId>` / `ID#<broadcastId>` (at most a 64 KB message
 * each), and their counters next to them under `COUNTS#<broadcastId>`: a small item, so the
 * sender's additions do not rewrite the message. Only GetItem, Query and UpdateItem, which the
 * fan-out, the sender and the admin function are all granted.
 */
export function dynamoBroadcasts(client: DynamoDBDocumentClient, table: string): BroadcastStore {
  const update = ({ pageId, topicId, broadcastId }: Parameters<BroadcastStore['get']>[0]) =>
    keys.broadcast(pageId, topicId, broadcastId);
  const countsKey = ({ pageId, topicId, broadcastId }: Parameters<BroadcastStore['get']>[0]) =>
    keys.broadcastCounts(pageId, topicId, broadcastId);
  const readCounts = async (key: Parameters<BroadcastStore['get']>[0]) => {
    const answer = await client.send(
      new GetCommand({ TableName: table, Key: countsKey(key), ConsistentRead: true }),
    );
    return countsOf(answer.Item ?? {});
  };
  return {
    async create(broadcast) {
      const { counts: _counts, ...fields } = broadcast;
      const names = Object.keys(fields);
      await client.send(
        new UpdateCommand({
          TableName: table,
          Key: update(broadcast),
          UpdateExpression: `SET ${names.map((name) => `#${name} = :${name}`).join(', ')}`,
          // A fresh id: never overwrite another broadcast.
          ConditionExpression: 'attribute_not_exists(pk)',
          ExpressionAttributeNames: Object.fromEntries(names.map((name) => [`#${name}`, name])),
          ExpressionAttributeValues: Object.fromEntries(
            Object.entries(fields).map(([name, value]) => [`:${name}`, value]),
          ),
        }),
      );
    },

    async get(key) {
      const [answer, counts] = await Promise.all([
        client.send(new GetCommand({ TableName: table, Key: update(key), ConsistentRead: true })),
        readCounts(key),
      ]);
      return answer.Item ? { ...broadcastItem.parse(answer.Item), counts } : undefined;
    },

    async list({ pageId, topicId }) {
      const items = await queryPartition(client, table, keys.broadcast(pageId, topicId, '').pk);
      const counts = new Map(
        items
          .filter((item) => String(item.sk).startsWith(BROADCAST_COUNTS_PREFIX))
          .map((item) => [String(item.broadcastId), countsOf(item)]),
      );
      return items
        .filter((item) => String(item.sk).startsWith(BROADCAST_PREFIX))
        .map((item) => {
          const broadcast = broadcastItem.parse(item);
          return { ...broadcast, counts: counts.get(broadcast.broadcastId) ?? {} };
        });
    },

    async listOpen({ pageId, topicId }) {
      const open: Broadcast[] = [];
      // Done and cancelled ones stay in the partition: the filter reads past them, page by page.
      for await (const page of paginateQuery(
        { client },
        {
          TableName: table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :id)',
          FilterExpression: 'attribute_not_exists(doneAt) AND attribute_not_exists(cancelledAt)',
          ExpressionAttributeValues: {
            ':pk': keys.broadcast(pageId, topicId, '').pk,
            ':id': BROADCAST_PREFIX,
          },
          ConsistentRead: true,
        },
      )) {
        for (const item of page.Items ?? [])
          open.push({ ...broadcastItem.parse(item), counts: {} });
      }
      return open;
    },

    ...dynamoBroadcastMarks(client, table),

    async count(key, counts) {
      const entries = Object.entries(counts).filter(([, by]) => by !== undefined && by !== 0);
      if (entries.length === 0) return;
      await client.send(
        new UpdateCommand({
          TableName: table,
          Key: countsKey(key),
          UpdateExpression: `ADD ${entries.map(([name]) => `#${name} :${name}`).join(', ')} SET pageId = :pageId, topicId = :topicId, broadcastId = :broadcastId`,
          ExpressionAttributeNames: Object.fromEntries(entries.map(([name]) => [`#${name}`, name])),
          ExpressionAttributeValues: {
            ':pageId': key.pageId,
            ':topicId': key.topicId,
            ':broadcastId': key.broadcastId,
            ...Object.fromEntries(entries.map(([name, by]) => [`:${name}`, by])),
          },
        }),
      );
    },
  };
}

/**
 * The writes that decide a broadcast's state: the admin's cancel and the fan-out's start and
 * done marks, each one conditional UpdateItem, so a cancel and a start never both win.
 */
function dynamoBroadcastMarks(
  client: DynamoDBDocumentClient,
  table: string,
): Pick<BroadcastStore, 'cancel' | 'markStarted' | 'markDone'> {
  const update = ({ pageId, topicId, broadcastId }: Parameters<BroadcastStore['get']>[0]) =>
    keys.broadcast(pageId, topicId, broadcastId);
  return {
    async cancel(key, at) {
      try {
        const answer = await client.send(
          new UpdateCommand({
            TableName: table,
            Key: update(key),
            UpdateExpression: 'SET cancelledAt = :at',
            // Once a run has queued jobs, they go: no cancelling half a broadcast.
            ConditionExpression:
              'attribute_exists(pk) AND attribute_not_exists(startedAt) AND attribute_not_exists(cancelledAt)',
            ExpressionAttributeValues: { ':at': at },
            ReturnValues: 'ALL_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        const broadcast = broadcastItem.parse(answer.Attributes ?? {});
        return { kind: 'cancelled', broadcast: { ...broadcast, counts: {} } };
      } catch (error: unknown) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        if (error.Item === undefined) return { kind: 'missing' };
        // DynamoDB's own encoding: the refused write's old item.
        const cancelledAt = Number(error.Item.cancelledAt?.N);
        if (Number.isFinite(cancelledAt)) return { kind: 'already-cancelled', cancelledAt };
        return { kind: 'started', startedAt: Number(error.Item.startedAt?.N) || 0 };
      }
    },

    async markStarted(key, at) {
      try {
        const answer = await client.send(
          new UpdateCommand({
            TableName: table,
            Key: update(key),
            UpdateExpression: 'SET startedAt = if_not_exists(startedAt, :at)',
            // A cancel that came first wins: then nothing is queued.
            ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(cancelledAt)',
            ExpressionAttributeValues: { ':at': at },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return { ...broadcastItem.parse(answer.Attributes ?? {}), counts: {} };
      } catch (error: unknown) {
        if (error instanceof ConditionalCheckFailedException) return undefined;
        throw error;
      }
    },

    async markDone(key, at) {
      await updateIfCondition(
        client,
        new UpdateCommand({
          TableName: table,
          Key: update(key),
          UpdateExpression: 'SET doneAt = :at',
          ConditionExpression:
            'attribute_exists(startedAt) AND attribute_not_exists(doneAt) AND attribute_not_exists(cancelledAt)',
          ExpressionAttributeValues: { ':at': at },
        }),
      );
    },
  };
}

/** The zones a topic has subscribers in, any cadence, from its topic zones item. */
export function dynamoTopicZoneReader(
  client: DynamoDBDocumentClient,
  table: string,
): (pageId: string, topicId: string) => Promise<string[]> {
  return async (pageId, topicId) => {
    const answer = await client.send(
      new GetCommand({ TableName: table, Key: keys.topicZones(pageId, topicId) }),
    );
    const entries = z.set(z.string()).optional().parse(answer.Item?.zones) ?? new Set<string>();
    const zones = [...entries].flatMap((entry) => parseTopicZoneEntry(entry)?.zone ?? []);
    return [...new Set(zones)].sort();
  };
}

function countsOf(item: Record<string, unknown>): Broadcast['counts'] {
  return Object.fromEntries(
    Object.entries(item).filter(
      (entry): entry is [string, number] =>
        !NOT_COUNTERS.has(entry[0]) && typeof entry[1] === 'number',
    ),
  );
}
