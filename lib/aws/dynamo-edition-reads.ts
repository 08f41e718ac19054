import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { Edition, EditionStore } from '../domain/editions/edition.ts';
import {
  type EditionResult,
  type EditionResults,
  editionResultOf,
} from '../domain/editions/edition-results.ts';
import { updateIfCondition } from './dynamo-conditional.ts';
import { queryKeyRange } from './dynamo-query.ts';
import { keys } from './keys.ts';

const editionItem = z.object({
  pageId: z.string(),
  topicId: z.string(),
  date: z.string(),
  message: z.record(z.string(), z.unknown()),
  createdAt: z.number(),
  updatedAt: z.number(),
  firstSentAt: z.number().optional(),
  version: z.number(),
});

/**
 * What the fan-out and the sender do with editions (`EDITION#<pageId>#<topicId>` /
 * `DATE#<date>`): read them, and mark an edition's first send; apart from the admin API's
 * saves and deletes, so their bundles hold no write they are not granted.
 */
export function dynamoEditionReads(
  client: DynamoDBDocumentClient,
  table: string,
): Pick<EditionStore, 'get' | 'list' | 'markSent'> {
  return {
    async get({ pageId, topicId, date }) {
      const answer = await client.send(
        new GetCommand({
          TableName: table,
          Key: keys.edition(pageId, topicId, date),
          ConsistentRead: true,
        }),
      );
      return answer.Item ? editionOf(answer.Item) : undefined;
    },

    async list({ pageId, topicId, from, to }) {
      const items = await queryKeyRange(
        client,
        table,
        keys.edition(pageId, topicId, from),
        keys.edition(pageId, topicId, to),
        { consistent: true },
      );
      return items.map(editionOf);
    },

    async markSent({ pageId, topicId, date }, version, at) {
      const marked = await updateIfCondition(
        client,
        new UpdateCommand({
          TableName: table,
          Key: keys.edition(pageId, topicId, date),
          UpdateExpression: 'SET firstSentAt = if_not_exists(firstSentAt, :at)',
          // Only the version the sender read: a save in between is read again before it goes.
          ConditionExpression: 'version = :version',
          ExpressionAttributeValues: { ':at': at, ':version': version },
        }),
      );
      return marked ? 'marked' : 'changed';
    },
  };
}

/** Editions' counters, `STATS#<pageId>#<topicId>` / `EDITION#<date>`, added by `dynamoStatsStore`. */
export function dynamoEditionResults(
  client: DynamoDBDocumentClient,
  table: string,
): EditionResults {
  return {
    async read(pageId, topicId, from, to) {
      const items = await queryKeyRange(
        client,
        table,
        keys.editionStats(pageId, topicId, from),
        keys.editionStats(pageId, topicId, to),
      );
      const results: EditionResult[] = [];
      for (const item of items) {
        const counts = Object.fromEntries(
          Object.entries(item).filter(
            (entry): entry is [string, number] => typeof entry[1] === 'number',
          ),
        );
        results.push(editionResultOf(String(item.day), counts));
      }
      return results;
    },
  };
}

/** An edition item read back. */
export function editionOf(item: Record<string, unknown>): Edition {
  const { firstSentAt, ...rest } = editionItem.parse(item);
  return { ...rest, ...(firstSentAt !== undefined && { firstSentAt }) };
}
