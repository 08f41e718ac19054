import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ContentSourceDeps } from '../domain/fanout/content-source.ts';
import { updateIfCondition } from './dynamo-conditional.ts';
import { keys } from './keys.ts';

/**
 * The fan-out's write of a content source's edition (`EDITION#<pageId>#<topicId>` /
 * `DATE#<date>`), only where none is stored: an edition another run (or an operator) stored
 * first is kept, so every zone sends the same.
 */
export function dynamoContentEditions(
  client: DynamoDBDocumentClient,
  table: string,
): ContentSourceDeps['editions'] {
  return {
    async create({ pageId, topicId, date, message }, at) {
      const created = await updateIfCondition(
        client,
        new UpdateCommand({
          TableName: table,
          Key: keys.edition(pageId, topicId, date),
          UpdateExpression:
            'SET pageId = :pageId, topicId = :topicId, #date = :date, message = :message, ' +
            'createdAt = :at, updatedAt = :at, version = :one',
          ConditionExpression: 'attribute_not_exists(pk)',
          ExpressionAttributeNames: { '#date': 'date' },
          ExpressionAttributeValues: {
            ':pageId': pageId,
            ':topicId': topicId,
            ':date': date,
            ':message': message,
            ':at': at,
            ':one': 1,
          },
        }),
      );
      return created ? 'created' : 'exists';
    },
  };
}
