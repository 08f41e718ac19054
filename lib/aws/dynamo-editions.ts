import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  paginateQuery,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { Edition, EditionStore } from '../domain/editions/edition.ts';
import {
  type EditionResult,
  type EditionResults,
  editionResultOf,
} from '../domain/editions/edition-results.ts';
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
 * Editions, `EDITION#<pageId>#<topicId>` / `DATE#<date>`: one small item each (a message is at
 * most 64 KB as JSON), written by the admin API and marked once by the sender that first sends it.
 */
export function dynamoEditions(client: DynamoDBDocumentClient, table: string): EditionStore {
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
      const editions: Edition[] = [];
      for await (const page of paginateQuery(
        { client },
        {
          TableName: table,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: {
            ':pk': keys.edition(pageId, topicId, from).pk,
            ':from': keys.edition(pageId, topicId, from).sk,
            ':to': keys.edition(pageId, topicId, to).sk,
          },
          ConsistentRead: true,
        },
      )) {
        editions.push(...(page.Items ?? []).map(editionOf));
      }
      return editions;
    },

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

    async markSent({ pageId, topicId, date }, version, at) {
      try {
        await client.send(
          new UpdateCommand({
            TableName: table,
            Key: keys.edition(pageId, topicId, date),
            UpdateExpression: 'SET firstSentAt = if_not_exists(firstSentAt, :at)',
            // Only the version the sender read: a save in between is read again before it goes.
            ConditionExpression: 'version = :version',
            ExpressionAttributeValues: { ':at': at, ':version': version },
          }),
        );
        return 'marked';
      } catch (error: unknown) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        return 'changed';
      }
    },
  };
}

function editionOf(item: Record<string, unknown>): Edition {
  const { firstSentAt, ...rest } = editionItem.parse(item);
  return { ...rest, ...(firstSentAt !== undefined && { firstSentAt }) };
}

/** The first send of the edition a refused write found (DynamoDB's own encoding). */
function firstSentAtOf(error: ConditionalCheckFailedException): number {
  const value = Number(error.Item?.firstSentAt?.N);
  return Number.isFinite(value) ? value : 0;
}

/** Editions' counters, `STATS#<pageId>#<topicId>` / `EDITION#<date>`, added by `dynamoStatsStore`. */
export function dynamoEditionResults(
  client: DynamoDBDocumentClient,
  table: string,
): EditionResults {
  return {
    async read(pageId, topicId, from, to) {
      const results: EditionResult[] = [];
      for await (const page of paginateQuery(
        { client },
        {
          TableName: table,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: {
            ':pk': keys.editionStats(pageId, topicId, from).pk,
            ':from': keys.editionStats(pageId, topicId, from).sk,
            ':to': keys.editionStats(pageId, topicId, to).sk,
          },
        },
      )) {
        for (const item of page.Items ?? []) {
          const counts = Object.fromEntries(
            Object.entries(item).filter(
              (entry): entry is [string, number] => typeof entry[1] === 'number',
            ),
          );
          results.push(editionResultOf(String(item.day), counts));
        }
      }
      return results;
    },
  };
}
