import {
  BatchGetCommand,
  BatchWriteCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { chunk, mapWithConcurrency } from '../concurrency.ts';

type Key = Record<string, string>;
type Item = Record<string, unknown>;
type WriteRequest = { PutRequest: { Item: Item } } | { DeleteRequest: { Key: Key } };

const MAX_ROUNDS = 10;

/** Reads many items by key, 100 per call, retrying unprocessed keys with backoff. */
export async function batchGet(
  client: DynamoDBDocumentClient,
  table: string,
  allKeys: readonly Key[],
): Promise<Item[]> {
  const pages = await mapWithConcurrency(chunk(allKeys, 100), 4, async (keys) => {
    const found: Item[] = [];
    let pending: Key[] = keys;
    for (let round = 0; pending.length > 0; round++) {
      if (round === MAX_ROUNDS) throw new Error(`BatchGet left ${pending.length} keys unprocessed`);
      if (round > 0) await backoff(round);
      const answer = await client.send(
        new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } }),
      );
      found.push(...(answer.Responses?.[table] ?? []));
      pending = (answer.UnprocessedKeys?.[table]?.Keys ?? []) as Key[];
    }
    return found;
  });
  return pages.flat();
}

/** Writes many puts and deletes, 25 per call, retrying unprocessed ones with backoff. */
export async function batchWrite(
  client: DynamoDBDocumentClient,
  table: string,
  requests: readonly WriteRequest[],
): Promise<void> {
  await mapWithConcurrency(chunk(requests, 25), 4, async (batch) => {
    let pending: WriteRequest[] = batch;
    for (let round = 0; pending.length > 0; round++) {
      if (round === MAX_ROUNDS) throw new Error(`BatchWrite left ${pending.length} unprocessed`);
      if (round > 0) await backoff(round);
      const answer = await client.send(
        new BatchWriteCommand({ RequestItems: { [table]: pending } }),
      );
      pending = (answer.UnprocessedItems?.[table] ?? []) as WriteRequest[];
    }
  });
}

function backoff(round: number): Promise<void> {
  const ms = Math.min(2_000, 25 * 2 ** round) * (0.5 + Math.random() / 2);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
