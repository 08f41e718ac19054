import { type AttributeValue, ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { RateLimiter } from '../domain/sending/ports.ts';
import {
  type BucketState,
  planTake,
  type TakePlan,
  tokenTimesAfterTake,
} from '../domain/sending/rate-bucket.ts';
import { keys } from './keys.ts';

const bucketItem = z.object({
  tat: z.number().optional(),
  throttledUntil: z.number().optional(),
  slowFactor: z.number().optional(),
  slowUntil: z.number().optional(),
});

/** Writes lost to other takers before a batch gives up and goes back to the queue. */
const MAX_ROUNDS = 6;

/**
 * Each Page's token bucket as one item (`RATE#<pageId>`), shared by every sender: a take is
 * one conditional update, whose condition is the bucket math of `planTake`. The last state
 * seen is kept per Page so the first write usually has the right form; a lost race returns
 * the current item, and the next round uses it. No reads: a take costs one write.
 */
export function dynamoRateBucket(
  client: DynamoDBDocumentClient,
  table: string,
  { burst }: { burst: number },
): RateLimiter {
  const known = new Map<string, BucketState>();

  async function write(pageId: string, plan: Exclude<TakePlan, { kind: 'refuse' }>, now: number) {
    const key = keys.rateBucket(pageId);
    const notThrottled = '(attribute_not_exists(throttledUntil) OR throttledUntil <= :now)';
    const common = {
      TableName: table,
      Key: key,
      ExpressionAttributeValues: { ':now': now, ':pageId': pageId } as Record<string, unknown>,
      ReturnValues: 'ALL_NEW' as const,
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
    };
    if (plan.kind === 'idle') {
      common.ExpressionAttributeValues[':tat'] = plan.newTat;
      return client.send(
        new UpdateCommand({
          ...common,
          UpdateExpression: 'SET tat = :tat, pageId = :pageId',
          ConditionExpression: `(attribute_not_exists(tat) OR tat <= :now) AND ${notThrottled}`,
        }),
      );
    }
    common.ExpressionAttributeValues[':cost'] = plan.cost;
    common.ExpressionAttributeValues[':maxTat'] = plan.maxTat;
    return client.send(
      new UpdateCommand({
        ...common,
        UpdateExpression: 'SET tat = tat + :cost, pageId = :pageId',
        ConditionExpression: `tat > :now AND tat <= :maxTat AND ${notThrottled}`,
      }),
    );
  }

  return {
    async take({ pageId, tokens, ratePerSecond, now, maxWaitMs }) {
      const request = { tokens, ratePerSecond, now, maxWaitMs, burst };
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const state = known.get(pageId) ?? {};
        const plan = planTake(state, request);
        // `tat` and `throttledUntil` only ever grow, so a refusal from what was seen holds.
        if (plan.kind === 'refuse') {
          return { granted: false, reason: plan.reason, retryAt: plan.retryAt };
        }
        try {
          const answer = await write(pageId, plan, now);
          const next = bucketItem.parse(answer.Attributes ?? {});
          known.set(pageId, next);
          return { granted: true, ...tokenTimesAfterTake(next.tat ?? now, plan, tokens) };
        } catch (error: unknown) {
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
          known.set(pageId, fromRaw(error.Item));
        }
      }
      return { granted: false, reason: 'rate', retryAt: now + 1_000 };
    },

    async applyPressure(pageId, pressure) {
      if (pressure.kind === 'none') return;
      const key = keys.rateBucket(pageId);
      if (pressure.kind === 'stop') {
        try {
          await client.send(
            new UpdateCommand({
              TableName: table,
              Key: key,
              UpdateExpression: 'SET throttledUntil = :until, pageId = :pageId',
              // Keep the later stop when several senders report at once.
              ConditionExpression:
                'attribute_not_exists(throttledUntil) OR throttledUntil < :until',
              ExpressionAttributeValues: { ':until': pressure.until, ':pageId': pageId },
            }),
          );
        } catch (error: unknown) {
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
        }
        const state = known.get(pageId) ?? {};
        known.set(pageId, {
          ...state,
          throttledUntil: Math.max(state.throttledUntil ?? 0, pressure.until),
        });
        return;
      }
      await client.send(
        new UpdateCommand({
          TableName: table,
          Key: key,
          UpdateExpression: 'SET slowFactor = :factor, slowUntil = :until, pageId = :pageId',
          ExpressionAttributeValues: {
            ':factor': pressure.factor,
            ':until': pressure.until,
            ':pageId': pageId,
          },
        }),
      );
      known.set(pageId, {
        ...known.get(pageId),
        slowFactor: pressure.factor,
        slowUntil: pressure.until,
      });
    },
  };
}

/** Reads the raw item DynamoDB returns with a failed condition. */
function fromRaw(item: Record<string, AttributeValue> | undefined): BucketState {
  const number = (name: string) => {
    const value = item?.[name];
    return value && 'N' in value && value.N !== undefined ? Number(value.N) : undefined;
  };
  return bucketItem.parse({
    tat: number('tat'),
    throttledUntil: number('throttledUntil'),
    slowFactor: number('slowFactor'),
    slowUntil: number('slowUntil'),
  });
}
