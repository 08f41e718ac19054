import { randomBytes } from 'node:crypto';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { ContentSecretStore } from '../domain/content-source.ts';
import { keys } from './keys.ts';

const secretItem = z.object({ secret: z.string().min(1) });

/** A new content source secret: 32 random bytes, hex. */
export function newContentSecret(): string {
  return randomBytes(32).toString('hex');
}

/**
 * Content source secrets in the table, `CONTENTSECRET#<pageId>#<topicId>` / `SECRET`: what the
 * local runtime uses where a deployed stack uses Secrets Manager. No admin read returns it.
 */
export function dynamoContentSecrets(
  client: DynamoDBDocumentClient,
  table: string,
): ContentSecretStore {
  return {
    async rotate({ pageId, topicId }) {
      const secret = newContentSecret();
      await client.send(
        new PutCommand({
          TableName: table,
          Item: { ...keys.contentSecret(pageId, topicId), pageId, topicId, secret },
        }),
      );
      return secret;
    },

    async get({ pageId, topicId }) {
      const answer = await client.send(
        new GetCommand({
          TableName: table,
          Key: keys.contentSecret(pageId, topicId),
          ConsistentRead: true,
        }),
      );
      return answer.Item ? secretItem.parse(answer.Item).secret : undefined;
    },
  };
}
