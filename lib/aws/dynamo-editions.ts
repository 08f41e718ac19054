import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { EditionStore } from '../domain/editions/edition.ts';
import { dynamoEditionReads, editionOf } from './dynamo-edition-reads.ts';
import { keys } from './keys.ts';

/**
 * Editions, `EDITION#<pageId>#<topicId>` / `DATE#<date>`: one small item each (a message is at
 * most 64 KB as JSON), written by the admin API and marked once by the sender that first sends it.
 */
export function dynamoEditions(client: DynamoDBDocumentClient, table: string): EditionStore {
  return {
    ...dynamoEditionReads(client, table),

    async put({ pageId, topicId, date, message }, at) {
      try {
        const answer = await client.send(
          new UpdateCommand({
            TableName: table,
            Key: keys.edition(pageId, topicId, date),
            UpdateExpression:
              'SET pageId = :pageId, topicId = :topicId, #date = :date, message = :message, ' +
              'updatedAt = :at, createdAt = if_not_exists(createdAt, :at) ADD version :one',
            // Once sent to anyone, an edition is what everyone gets: no later change.
            ConditionExpression: 'attribute_not_exists(firstSentAt)',
            ExpressionAttributeNames: { '#date': 'date' },
            ExpressionAttributeValues: {
              ':pageId': pageId,
              ':topicId': topicId,
              ':date': date,
              ':message': message,
              ':at': at,
              ':one': 1,
            },
            ReturnValues: 'ALL_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        const edition = editionOf(answer.Attributes ?? {});
        return { kind: 'saved', created: edition.version === 1, edition };
      } catch (error: unknown) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        return { kind: 'sent', firstSentAt: firstSentAtOf(error) };
      }
    },

    async delete({ pageId, topicId, date }) {
      try {
        await client.send(
          new DeleteCommand({
            TableName: table,
            Key: keys.edition(pageId, topicId, date),
            ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(firstSentAt)',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return { kind: 'deleted' };
      } catch (error: unknown) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        return error.Item === undefined
          ? { kind: 'missing' }
          : { kind: 'sent', firstSentAt: firstSentAtOf(error) };
      }
    },
  };
}

/** The first send of the edition a refused write found (DynamoDB's own encoding). */
function firstSentAtOf(error: ConditionalCheckFailedException): number {
  const value = Number(error.Item?.firstSentAt?.N);
  return Number.isFinite(value) ? value : 0;
}
