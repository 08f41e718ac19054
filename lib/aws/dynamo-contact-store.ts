import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { OptInClaims } from '../domain/admin/ports.ts';
import type { ContactStore } from '../domain/ports.ts';
import { keys } from './keys.ts';

/**
 * The contact item (`SUB#<pageId>#<psid>` / `CONTACT`): when the person last wrote to the Page
 * (the 24 h window) and when an opt-in request was last made per title.
 */
export function dynamoContactStore(
  client: DynamoDBDocumentClient,
  table: string,
): ContactStore & OptInClaims {
  return {
    async recordInbound(pageId, psid, at) {
      try {
        await client.send(
          new UpdateCommand({
            TableName: table,
            Key: keys.contact(pageId, psid),
            UpdateExpression: 'SET lastInboundAt = :at, pageId = :pageId, psid = :psid',
            // Keep the newest: deliveries arrive out of order.
            ConditionExpression: 'attribute_not_exists(lastInboundAt) OR lastInboundAt < :at',
            ExpressionAttributeValues: { ':at': at, ':pageId': pageId, ':psid': psid },
          }),
        );
      } catch (error: unknown) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    },

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

/** The attribute of the contact record holding when an opt-in request for a title was made. */
function optInAttribute(title: string): string {
  return `optInRequest#${title}`;
}

function numberOf(value: { N?: string } | undefined): number | undefined {
  const parsed = value?.N === undefined ? Number.NaN : Number(value.N);
  return Number.isFinite(parsed) ? parsed : undefined;
}
