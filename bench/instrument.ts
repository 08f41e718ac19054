import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { InitializeMiddleware } from '@smithy/types';

/** Requests per command and DynamoDB capacity units, counted at the SDK client. */
export interface RequestCounts {
  requests: Record<string, number>;
  readUnits: number;
  /** Writes as DynamoDB reports them (indexes included), plus one per refused conditional write. */
  writeUnits: number;
  /** The part of `writeUnits` that went to secondary indexes. */
  indexWriteUnits: number;
}

export function emptyCounts(): RequestCounts {
  return { requests: {}, readUnits: 0, writeUnits: 0, indexWriteUnits: 0 };
}

interface CapacityShape {
  CapacityUnits?: number;
  GlobalSecondaryIndexes?: Record<string, { CapacityUnits?: number }>;
}

const OPTIONS = { step: 'initialize', name: 'benchCounter' } as const;
const WRITE = /Put|Update|Delete|Write/;

/** Counts a DynamoDB client's requests and the capacity DynamoDB reports for each. */
export function instrumentDynamo(client: DynamoDBDocumentClient, counts: RequestCounts): void {
  client.middlewareStack.add(counter(counts, true), OPTIONS);
}

/** Counts an SQS client's requests. */
export function instrumentSqs(client: SQSClient, counts: RequestCounts): void {
  client.middlewareStack.add(counter(counts, false), OPTIONS);
}

function counter<I extends object, O extends object>(
  counts: RequestCounts,
  dynamo: boolean,
): InitializeMiddleware<I, O> {
  return (next, context) => async (args) => {
    const input = args.input as Record<string, unknown>;
    const name = context.commandName ?? 'unknown';
    counts.requests[name] = (counts.requests[name] ?? 0) + 1;
    // Ask DynamoDB for its own figure, per index, rather than estimating item sizes.
    if (dynamo && !('ReturnConsumedCapacity' in input)) input.ReturnConsumedCapacity = 'INDEXES';
    const isWrite = dynamo && WRITE.test(name);
    let result: Awaited<ReturnType<typeof next>>;
    try {
      result = await next(args);
    } catch (error: unknown) {
      // A refused conditional write still costs its write unit (our items are under 1 KB).
      if (isWrite && (error as { name?: string }).name === 'ConditionalCheckFailedException') {
        counts.writeUnits += 1;
      }
      throw error;
    }
    if (!dynamo) return result;
    const consumed = (result.output as { ConsumedCapacity?: CapacityShape | CapacityShape[] })
      .ConsumedCapacity;
    for (const entry of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
      if (isWrite) {
        counts.writeUnits += entry.CapacityUnits ?? 0;
        for (const index of Object.values(entry.GlobalSecondaryIndexes ?? {})) {
          counts.indexWriteUnits += index.CapacityUnits ?? 0;
        }
      } else counts.readUnits += entry.CapacityUnits ?? 0;
    }
    return result;
  };
}

/** Total requests over all commands. */
export function totalRequests(counts: RequestCounts): number {
  return Object.values(counts.requests).reduce((sum, n) => sum + n, 0);
}
