import { gzipSync } from 'node:zlib';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { EventArchive } from '../domain/ports.ts';
import { batchWrite } from './dynamo-batch.ts';
import { keys } from './keys.ts';

const RETENTION_SECONDS = 30 * 24 * 3600;
/** DynamoDB items stop at 400 KB; larger (gzipped) bodies are split over part items. */
const PART_BYTES = 350_000;

/** Raw webhook bodies, gzipped, kept 30 days; `state` tells whether they were applied. */
export function dynamoEventArchive(client: DynamoDBDocumentClient, table: string): EventArchive {
  return {
    async archive({ hash, body, receivedAt }) {
      const key = keys.event(hash);
      const expiresAt = Math.floor(receivedAt / 1000) + RETENTION_SECONDS;
      const zipped = gzipSync(body);
      const parts: Uint8Array[] = [];
      for (let offset = 0; offset < zipped.length; offset += PART_BYTES) {
        parts.push(zipped.subarray(offset, offset + PART_BYTES));
      }
      if (parts.length > 1) {
        await batchWrite(
          client,
          table,
          parts.map((part, index) => ({
            PutRequest: { Item: { pk: key.pk, sk: `PART#${index}`, body: part, expiresAt } },
          })),
        );
      }
      try {
        await client.send(
          new PutCommand({
            TableName: table,
            Item: {
              ...key,
              state: 'received',
              receivedAt,
              expiresAt,
              ...(parts.length > 1 ? { parts: parts.length } : { body: zipped }),
            },
            ConditionExpression: 'attribute_not_exists(pk)',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return 'new';
      } catch (error: unknown) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        return error.Item?.state?.S === 'applied' ? 'applied' : 'unapplied';
      }
    },

    async markApplied(hash) {
      await client.send(
        new UpdateCommand({
          TableName: table,
          Key: keys.event(hash),
          UpdateExpression: 'SET #state = :applied',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':applied': 'applied' },
        }),
      );
    },
  };
}
