import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SendStore } from '../domain/sender-ports.ts';
import { toSubscription } from './dynamo-subscription-store.ts';
import { keys } from './keys.ts';

/**
 * The sender's writes. Every write to a subscription bumps `version`, the webhook's
 * optimistic lock, so an opt-in read before a claim can never overwrite it.
 */
export function dynamoSendStore(client: DynamoDBDocumentClient, table: string): SendStore {
  return {
    async claim(key, slot, threshold) {
      try {
        const answer = await client.send(
          new UpdateCommand({
            TableName: table,
            Key: keys.subscription(key),
            UpdateExpression: 'SET lastSlot = :slot ADD #version :one',
            // Once per slot: active, and the last claimed slot plus the cooldown is not after this one.
            ConditionExpression:
              '#status = :active AND (attribute_not_exists(lastSlot) OR lastSlot < :threshold)',
            ExpressionAttributeNames: { '#status': 'status', '#version': 'version' },
            ExpressionAttributeValues: {
              ':slot': slot,
              ':threshold': threshold,
              ':active': 'active',
              ':one': 1,
            },
            // The item as it was: its token is the freshest, and its lastSlot is what a release restores.
            ReturnValues: 'ALL_OLD',
          }),
        );
        if (!answer.Attributes) throw new Error('claim returned no previous item');
        return { claimed: true, before: toSubscription(answer.Attributes) };
      } catch (error: unknown) {
        if (error instanceof ConditionalCheckFailedException) return { claimed: false };
        throw error;
      }
    },

    async release(key, slot, previousSlot) {
      try {
        await client.send(
          new UpdateCommand({
            TableName: table,
            Key: keys.subscription(key),
            UpdateExpression:
              previousSlot === undefined
                ? 'REMOVE lastSlot ADD #version :one'
                : 'SET lastSlot = :previous ADD #version :one',
            // Only our own claim: a later slot's claim is not ours to undo.
            ConditionExpression: 'lastSlot = :slot',
            ExpressionAttributeNames: { '#version': 'version' },
            ExpressionAttributeValues: {
              ':slot': slot,
              ':one': 1,
              ...(previousSlot !== undefined && { ':previous': previousSlot }),
            },
          }),
        );
      } catch (error: unknown) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    },

    async recordSent(key, { sentAt, messageId }) {
      try {
        await client.send(
          new UpdateCommand({
            TableName: table,
            Key: keys.subscription(key),
            UpdateExpression:
              messageId === undefined
                ? 'SET lastSentAt = :at ADD #version :one REMOVE lastMessageId'
                : 'SET lastSentAt = :at, lastMessageId = :id ADD #version :one',
            // Erased meanwhile (the person asked): do not bring the item back.
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeNames: { '#version': 'version' },
            ExpressionAttributeValues: {
              ':at': sentAt,
              ':one': 1,
              ...(messageId !== undefined && { ':id': messageId }),
            },
          }),
        );
      } catch (error: unknown) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    },

    async pausePage(pageId, reason, at) {
      try {
        await client.send(
          new UpdateCommand({
            TableName: table,
            Key: keys.page(pageId),
            UpdateExpression: 'SET #status = :paused, pausedReason = :reason, pausedAt = :at',
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':paused': 'paused', ':reason': reason, ':at': at },
          }),
        );
      } catch (error: unknown) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    },
  };
}
