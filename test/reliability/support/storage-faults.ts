import {
  InternalServerError,
  ProvisionedThroughputExceededException,
  ThrottlingException,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Prng } from './prng.ts';

/** One DynamoDB call attempt as the SDK makes it (each retry is an attempt). */
export interface Attempt {
  command: string;
  /** The `attempt=N` the SDK's retry middleware writes on every attempt. */
  attempt: number;
  /** Real ms. */
  at: number;
  /** The item's `pk` when the call names one key. */
  pk?: string;
  input: Record<string, unknown>;
  /** What this attempt got from the fault injector. */
  injected?: 'before' | 'after';
}

/** Decides the fate of one attempt: fail before it reaches DynamoDB, after it, or not at all. */
export type FaultRule = (attempt: Attempt) => 'before' | 'after' | undefined;

/** Errors DynamoDB answers under load, which the SDK retries with backoff. */
export type StorageError =
  | ProvisionedThroughputExceededException
  | ThrottlingException
  | InternalServerError;

/**
 * Storage faults at the SDK client, the one place a mock is fair (an emulator does not throttle):
 * a middleware inside the SDK's retry loop fails attempts with DynamoDB's throttling and server
 * errors. `before` fails an attempt without sending it; `after` sends it (the write happens)
 * and then loses the answer. Every attempt is recorded.
 */
export function injectStorageFaults(client: DynamoDBDocumentClient, random: Prng) {
  const attempts: Attempt[] = [];
  let rules: FaultRule[] = [];
  const anError = (): StorageError => {
    const $metadata = { httpStatusCode: 400 };
    const message = 'injected by the reliability test';
    const roll = random.int(0, 2);
    if (roll === 0) return new ProvisionedThroughputExceededException({ message, $metadata });
    if (roll === 1) return new ThrottlingException({ message, $metadata });
    return new InternalServerError({ message, $metadata: { httpStatusCode: 500 } });
  };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const request = args.request as { headers?: Record<string, string> } | undefined;
      const header = request?.headers?.['amz-sdk-request'] ?? 'attempt=1';
      const input = (args.input ?? {}) as Record<string, unknown>;
      const attempt: Attempt = {
        command: context.commandName ?? 'unknown',
        attempt: Number(/attempt=(\d+)/.exec(header)?.[1] ?? 1),
        at: Date.now(),
        ...(pkOf(input) !== undefined && { pk: pkOf(input) }),
        input,
      };
      attempts.push(attempt);
      for (const rule of rules) {
        const fate = rule(attempt);
        if (fate === undefined) continue;
        attempt.injected = fate;
        if (fate === 'before') throw anError();
        await next(args);
        throw new InternalServerError({
          message: 'injected after the write',
          $metadata: { httpStatusCode: 500 },
        });
      }
      return next(args);
    },
    // Inside the retry middleware (finalizeRequest, high): every retry passes here again.
    { step: 'finalizeRequest', priority: 'low', name: 'reliabilityStorageFaults' },
  );
  return {
    attempts,
    /** Adds a rule; rules are asked in order, the first with an answer decides. */
    add(rule: FaultRule) {
      rules.push(rule);
    },
    clear() {
      rules = [];
    },
  };
}

/** `pk` of a call naming one key (Get, Put, Update, Delete), marshalled or not. */
export function pkOf(input: Record<string, unknown>): string | undefined {
  const holder = (input.Key ?? input.Item) as Record<string, unknown> | undefined;
  const pk = holder?.pk;
  if (typeof pk === 'string') return pk;
  if (typeof pk === 'object' && pk !== null && 'S' in pk && typeof pk.S === 'string') return pk.S;
  return undefined;
}

/** The attempts of each call that reached a given attempt number, grouped by call. */
export function retriedCalls(attempts: readonly Attempt[]): Attempt[][] {
  const calls: Attempt[][] = [];
  for (const attempt of attempts) {
    if (attempt.attempt === 1) calls.push([attempt]);
    else {
      const call = [...calls]
        .reverse()
        .find(
          (candidate) =>
            candidate[0]?.command === attempt.command &&
            candidate[0]?.pk === attempt.pk &&
            candidate.at(-1)?.attempt === attempt.attempt - 1,
        );
      call?.push(attempt);
    }
  }
  return calls.filter((call) => call.length > 1);
}
