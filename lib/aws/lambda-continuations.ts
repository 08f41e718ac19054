import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { FanoutDeps } from '../domain/fanout/run-fanout.ts';

/** Hands the rest of a large fan-out to a fresh asynchronous invocation of the same function. */
export function lambdaContinuations(
  client: LambdaClient,
  functionName: string,
): FanoutDeps['continuations'] {
  return {
    async handOver(input) {
      await client.send(
        new InvokeCommand({
          FunctionName: functionName,
          InvocationType: 'Event',
          Payload: new TextEncoder().encode(JSON.stringify(input)),
        }),
      );
    },
  };
}
