import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { PersonBudget } from '../domain/sending/person-budget.ts';
import type { SendStore } from '../domain/sending/ports.ts';
import { sha256 } from '../hash.ts';
import { conversationHoursOf } from './dynamo-conversation-counts.ts';
import { queryPartition } from './dynamo-query.ts';
import { toSubscription } from './dynamo-subscription-store.ts';
import { keys, PERSON_BUDGET_PREFIX, topicIdOf } from './keys.ts';

/** A budget item is kept this long after its send, well past the 12 h it counts for. */
const RETENTION_SECONDS = 2 * 86_400;

const budgetItem = z.object({
  sentAt: z.number(),
  slot: z.number(),
  topicId: z.string(),
  claimedBy: z.string(),
});

/** A stored budget item, or none when it was given back (its fields removed). */
function toBudget(item: Record<string, unknown> | undefined): PersonBudget | undefined {
  if (item?.sentAt === undefined) return undefined;
  const { sentAt, slot, topicId, claimedBy } = budgetItem.parse(item);
  return { sentAt, slot, topicId, claimedBy };
}

const NAMES = {
  '#sentAt': 'sentAt',
  '#slot': 'slot',
  '#topicId': 'topicId',
  '#claimedBy': 'claimedBy',
};

/**
 * The person budget's reads and writes (`SUB#<pageId>#<psid>` / `BUDGET#<sha256 of token>`):
 * one conditional UpdateItem spends it, so of two senders only one can.
 */
export function dynamoPersonBudget(
  client: DynamoDBDocumentClient,
  table: string,
): Pick<SendStore, 'readPerson' | 'claimBudget' | 'releaseBudget'> {
  return {
    async readPerson({ pageId, psid }) {
      const items = await queryPartition(client, table, keys.contact(pageId, psid).pk);
      const subscriptions = items
        .filter((item) => topicIdOf(String(item.sk)) !== undefined)
        .map(toSubscription);
      const byHash = new Map<string, PersonBudget>();
      for (const item of items) {
        const sk = String(item.sk);
        const budget = sk.startsWith(PERSON_BUDGET_PREFIX) ? toBudget(item) : undefined;
        if (budget) byHash.set(sk.slice(PERSON_BUDGET_PREFIX.length), budget);
      }
      const tokens = new Set(subscriptions.flatMap((item) => (item.token ? [item.token] : [])));
      const budgets = [...tokens].flatMap((token) => {
        const budget = byHash.get(sha256(token));
        return budget ? [{ token, budget }] : [];
      });
      return { subscriptions, budgets, conversations: items.flatMap(conversationHoursOf) };
    },

    async claimBudget({ pageId, psid }, token, claim, freeBefore) {
      const key = keys.personBudget(pageId, psid, token);
      try {
        const answer = await client.send(
          new UpdateCommand({
            TableName: table,
            Key: key,
            UpdateExpression:
              'SET #sentAt = :sentAt, #slot = :slot, #topicId = :topicId, #claimedBy = :claimedBy, pageId = :pageId, expiresAt = :expiresAt',
            // Never spent (or given back), last spent 12 h or more before this send, or spent by
            // this very message on this job before a crash.
            ConditionExpression:
              'attribute_not_exists(#sentAt) OR #sentAt <= :freeBefore OR (#claimedBy = :claimedBy AND #slot = :slot AND #topicId = :topicId)',
            ExpressionAttributeNames: NAMES,
            ExpressionAttributeValues: {
              ':sentAt': claim.sentAt,
              ':slot': claim.slot,
              ':topicId': claim.topicId,
              ':claimedBy': claim.claimedBy,
              ':pageId': pageId,
              ':expiresAt': Math.floor(claim.sentAt / 1000) + RETENTION_SECONDS,
              ':freeBefore': freeBefore,
            },
            ReturnValues: 'ALL_OLD',
          }),
        );
        const before = toBudget(answer.Attributes);
        return before ? { claimed: true, before } : { claimed: true };
      } catch (error: unknown) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        // Who holds it decides between a skip and a wait: a second, rarer read.
        const held = await client.send(
          new GetCommand({ TableName: table, Key: key, ConsistentRead: true }),
        );
        const current = toBudget(held.Item);
        return current ? { claimed: false, current } : { claimed: false };
      }
    },

    async releaseBudget({ pageId, psid }, token, claim, previous) {
      const values: Record<string, unknown> = {
        ':slot': claim.slot,
        ':topicId': claim.topicId,
        ':claimedBy': claim.claimedBy,
      };
      let update = 'REMOVE #sentAt, #slot, #topicId, #claimedBy';
      if (previous) {
        update =
          'SET #sentAt = :sentAt, #slot = :previousSlot, #topicId = :previousTopicId, #claimedBy = :previousClaimedBy';
        Object.assign(values, {
          ':sentAt': previous.sentAt,
          ':previousSlot': previous.slot,
          ':previousTopicId': previous.topicId,
          ':previousClaimedBy': previous.claimedBy,
        });
      }
      try {
        await client.send(
          new UpdateCommand({
            TableName: table,
            Key: keys.personBudget(pageId, psid, token),
            UpdateExpression: update,
            // Only our own claim: a later send's is not ours to undo.
            ConditionExpression:
              '#claimedBy = :claimedBy AND #slot = :slot AND #topicId = :topicId',
            ExpressionAttributeNames: NAMES,
            ExpressionAttributeValues: values,
          }),
        );
      } catch (error: unknown) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    },
  };
}
