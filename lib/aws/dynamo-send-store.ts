import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SendStore } from '../domain/sending/ports.ts';
import { CLAIM_CONDITION, CLAIM_PAIRS } from './claim-attributes.ts';
import { dynamoPersonBudget } from './dynamo-person-budget.ts';
import { toSubscription } from './dynamo-subscription-store.ts';
import { keys } from './keys.ts';

/**
 * The sender's writes, and its read of a person with their budgets. Every write to a subscription bumps `version`, the webhook's
 * optimistic lock, so an opt-in read before a claim can never overwrite it.
 */
export function dynamoSendStore(client: DynamoDBDocumentClient, table: string): SendStore {
  return {
    ...dynamoPersonBudget(client, table),

    async claim(key, slot, threshold, sentAt, claimant, route) {
      const pair = CLAIM_PAIRS[route];
      try {
        const answer = await client.send(
          new UpdateCommand({
            TableName: table,
            Key: keys.subscription(key),
            UpdateExpression: `SET ${pair.slot} = :slot, ${pair.sentAt} = :sentAt, claimedBy = :claimant ADD #version :one`,
            // Once per slot, over both routes' pairs: the last claimed slot plus the cooldown is
            // not after this one, unless this very message claimed this slot and never finished.
            ConditionExpression: CLAIM_CONDITION,
            ExpressionAttributeNames: { '#status': 'status', '#version': 'version' },
            ExpressionAttributeValues: {
              ':slot': slot,
              ':sentAt': sentAt,
              ':threshold': threshold,
              ':active': 'active',
              ':one': 1,
              ':claimant': claimant,
            },
            // The item as it was: its token is the freshest, and its last claim is what a release restores.
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

    async release(key, slot, previous, route) {
      const pair = CLAIM_PAIRS[route];
      const sets: string[] = [];
      const removes: string[] = [];
      const values: Record<string, unknown> = { ':slot': slot, ':one': 1 };
      // Only the route's own pair: the newer of the two pairs reads as `previous` again (the
      // pair may then copy the other's, when that one held the last claim).
      for (const [field, value] of [
        [pair.slot, previous.lastSlot],
        [pair.sentAt, previous.lastSentAt],
      ] as const) {
        if (value === undefined) removes.push(field);
        else {
          sets.push(`${field} = :${field}`);
          values[`:${field}`] = value;
        }
      }
      try {
        await client.send(
          new UpdateCommand({
            TableName: table,
            Key: keys.subscription(key),
            UpdateExpression: [
              sets.length ? `SET ${sets.join(', ')}` : '',
              'ADD #version :one',
              removes.length ? `REMOVE ${removes.join(', ')}` : '',
            ].join(' '),
            // Only our own claim: a later slot's claim is not ours to undo.
            ConditionExpression: `${pair.slot} = :slot`,
            ExpressionAttributeNames: { '#version': 'version' },
            ExpressionAttributeValues: values,
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

    async holdPage(pageId, until, reason) {
      try {
        await client.send(
          new UpdateCommand({
            TableName: table,
            Key: keys.page(pageId),
            UpdateExpression: 'SET heldUntil = :until, heldReason = :reason',
            // Never shortens a hold another sender wrote until later.
            ConditionExpression:
              'attribute_exists(pk) AND (attribute_not_exists(heldUntil) OR heldUntil < :until)',
            ExpressionAttributeValues: { ':until': until, ':reason': reason },
          }),
        );
      } catch (error: unknown) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    },
  };
}
