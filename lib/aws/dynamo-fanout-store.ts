import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { FanoutDeps } from '../domain/fanout/run-fanout.ts';
import { cadenceSchema } from '../domain/topic.ts';
import { duePartitionsOf, keys } from './keys.ts';
import { TABLE } from './table-definition.ts';

/** The due index's `LastEvaluatedKey`: the table's and the index's keys, all strings. */
const positionSchema = z.record(z.string(), z.string());

const dueItem = z.object({
  psid: z.string(),
  lastSentAt: z.number().optional(),
  frequency: cadenceSchema.optional(),
});

/**
 * The due index: the shards of a group, and one partition page at a time, filtered on the run's
 * slot and cooldown thresholds.
 */
export function dynamoDueIndex(
  client: DynamoDBDocumentClient,
  table: string,
  options: { pageSize?: number } = {},
): FanoutDeps['dueIndex'] {
  const { dueIndex } = TABLE;
  return {
    partitionsFor: duePartitionsOf,

    async query(work) {
      const startKey =
        work.startKey === undefined ? undefined : positionSchema.parse(work.startKey);
      const answer = await client.send(
        new QueryCommand({
          TableName: table,
          IndexName: dueIndex.name,
          KeyConditionExpression: '#duePk = :partition',
          // Not before the opt-in, token alive at the slot, cooldown over: old WEEKLY/MONTHLY
          // tokens (with a frequency) also wait for the next calendar period. On Marketing
          // Message Pages `lastSlot`/`lastSentAt` here are as of the last legacy-era send (the
          // claim writes an unprojected pair, `claim-attributes.ts`): older than the truth, so
          // this passes every job the true state passes, a job's delay may be short, and the
          // sender's claim, which reads both pairs, skips or puts back what is not due.
          FilterExpression:
            'activeSince <= :slot AND (attribute_not_exists(tokenExpiresAt) OR tokenExpiresAt > :slot) AND (attribute_not_exists(lastSlot) OR lastSlot < :calendarThreshold OR (attribute_not_exists(frequency) AND lastSlot < :threshold))',
          ExpressionAttributeNames: { '#duePk': dueIndex.partitionKey },
          ExpressionAttributeValues: {
            ':partition': work.partition,
            ':slot': work.slot,
            ':threshold': work.threshold,
            ':calendarThreshold': work.calendarThreshold,
          },
          ProjectionExpression: 'psid, lastSentAt, frequency',
          ...(options.pageSize !== undefined && { Limit: options.pageSize }),
          ...(startKey && { ExclusiveStartKey: startKey }),
        }),
      );
      const items = (answer.Items ?? []).map((item) => dueItem.parse(item));
      const nextKey = answer.LastEvaluatedKey
        ? positionSchema.parse(answer.LastEvaluatedKey)
        : undefined;
      return { items, scanned: answer.ScannedCount ?? 0, ...(nextKey && { nextKey }) };
    },
  };
}

/** When each cadence's fan-out last completed, moved only forward. */
export function dynamoFanoutRuns(
  client: DynamoDBDocumentClient,
  table: string,
): FanoutDeps['runs'] {
  return {
    async lastCompleted(cadence) {
      const answer = await client.send(
        new GetCommand({ TableName: table, Key: keys.fanoutRun(cadence), ConsistentRead: true }),
      );
      return answer.Item ? z.number().parse(answer.Item.lastCompletedAt) : undefined;
    },

    async complete(cadence, scheduledTime) {
      try {
        await client.send(
          new UpdateCommand({
            TableName: table,
            Key: keys.fanoutRun(cadence),
            UpdateExpression: 'SET lastCompletedAt = :at',
            ConditionExpression: 'attribute_not_exists(lastCompletedAt) OR lastCompletedAt < :at',
            ExpressionAttributeValues: { ':at': scheduledTime },
          }),
        );
      } catch (error: unknown) {
        // A later run completed first: its mark stands.
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    },
  };
}
