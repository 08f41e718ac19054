import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { PendingUnsubscribes, ReconcileStore } from '../domain/admin/ports.ts';
import { updateIfCondition } from './dynamo-conditional.ts';
import { queryPartition } from './dynamo-query.ts';
import { keys } from './keys.ts';

/** A pending unsubscribe is given up after this long (the erasure itself is long done). */
const PENDING_TTL_SECONDS = 30 * 86_400;

const stateItem = z.object({
  pageId: z.string(),
  lastListedAt: z.number().optional(),
  failures: z.number(),
  retryAt: z.number().optional(),
  lastFailure: z.string().optional(),
});

const pendingItem = z.object({
  pageId: z.string(),
  psid: z.string(),
  erasedAt: z.number(),
  attempts: z.number(),
  nextAttemptAt: z.number(),
  lastFailure: z.string().optional(),
});

/**
 * The reconcile's records: `RECONCILE#<pageId>` / `STATE`, and `missingSince` on subscription
 * items. The mark does not bump `version`: no event's plan reads it, and a write since the
 * read (any writer bumps the version) makes the mark wait for the next list.
 */
export function dynamoReconcileStore(
  client: DynamoDBDocumentClient,
  table: string,
): ReconcileStore {
  return {
    async getState(pageId) {
      const answer = await client.send(
        new GetCommand({
          TableName: table,
          Key: keys.reconcileState(pageId),
          ConsistentRead: true,
        }),
      );
      return answer.Item ? stateItem.parse(answer.Item) : undefined;
    },

    async putState(state) {
      await client.send(
        new PutCommand({
          TableName: table,
          Item: { ...keys.reconcileState(state.pageId), ...stateItem.parse(state) },
        }),
      );
    },

    markMissing(key, at, version) {
      return updateIfCondition(
        client,
        new UpdateCommand({
          TableName: table,
          Key: keys.subscription(key),
          UpdateExpression: 'SET missingSince = :at',
          ConditionExpression:
            version === undefined
              ? 'attribute_exists(pk) AND attribute_not_exists(#version)'
              : '#version = :version',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: {
            ':at': at,
            ...(version !== undefined && { ':version': version }),
          },
        }),
      );
    },

    async clearMissing(key) {
      await updateIfCondition(
        client,
        new UpdateCommand({
          TableName: table,
          Key: keys.subscription(key),
          UpdateExpression: 'REMOVE missingSince',
          // Erased meanwhile: nothing to clear, and nothing to create.
          ConditionExpression: 'attribute_exists(pk)',
        }),
      );
    },
  };
}

/**
 * Erased people whose unsubscribe Meta has not confirmed, under `UNSUB#<pageId>`: only the
 * PSID and the retry's own facts, with a TTL so nothing outlives 30 days.
 */
export function dynamoPendingUnsubscribes(
  client: DynamoDBDocumentClient,
  table: string,
): PendingUnsubscribes {
  return {
    async put(entry) {
      await client.send(
        new PutCommand({
          TableName: table,
          Item: {
            ...keys.pendingUnsubscribe(entry.pageId, entry.psid),
            ...pendingItem.parse(entry),
            expiresAt: Math.floor(entry.erasedAt / 1000) + PENDING_TTL_SECONDS,
          },
        }),
      );
    },

    async list(pageId) {
      const items = await queryPartition(client, table, keys.pendingUnsubscribe(pageId, '').pk);
      return items.map((item) => pendingItem.parse(item));
    },

    async remove(pageId, psid) {
      await client.send(
        new DeleteCommand({ TableName: table, Key: keys.pendingUnsubscribe(pageId, psid) }),
      );
    },
  };
}
