import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { InitializeMiddleware } from '@smithy/types';

/** Requests per command and DynamoDB capacity units, counted at the SDK client. */
export interface RequestCounts {
  requests: Record<string, number>;
  readUnits: number;
  writeUnits: number;
}

export function emptyCounts(): RequestCounts {
  return { requests: {}, readUnits: 0, writeUnits: 0 };
}

interface CapacityShape {
  CapacityUnits?: number;
}

const OPTIONS = { step: 'initialize', name: 'benchCounter' } as const;

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
    // Ask DynamoDB for its own figure rather than estimating item sizes.
    if (dynamo && !('ReturnConsumedCapacity' in input)) input.ReturnConsumedCapacity = 'TOTAL';
    const result = await next(args);
    const name = context.commandName ?? 'unknown';
    counts.requests[name] = (counts.requests[name] ?? 0) + 1;
    if (dynamo) {
      const consumed = (result.output as { ConsumedCapacity?: CapacityShape | CapacityShape[] })
        .ConsumedCapacity;
      const isWrite = /Put|Update|Delete|Write/.test(name);
      for (const entry of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
        if (isWrite) counts.writeUnits += entry.CapacityUnits ?? 0;
        else counts.readUnits += entry.CapacityUnits ?? 0;
      }
    }
    return result;
  };
}

/** Total requests over all commands. */
export function totalRequests(counts: RequestCounts): number {
  return Object.values(counts.requests).reduce((sum, n) => sum + n, 0);
}
