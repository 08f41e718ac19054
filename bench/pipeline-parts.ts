import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Context } from 'aws-lambda';
import type { createDynamoClient } from '#lib/aws/clients.ts';
import { dynamoSubscriptionStore } from '#lib/aws/dynamo-subscription-store.ts';
import { mapWithConcurrency } from '#lib/concurrency.ts';
import { duePlacement } from '#lib/domain/due-placement.ts';
import type { Subscription } from '#lib/domain/subscription.ts';
import type { Topic } from '#lib/domain/topic.ts';
import type { Log } from '#lib/log.ts';
import type { FunctionName } from './pipeline.ts';

/** The benchmark pipeline's helpers: Lambda instances, counted logs, the webhook server, seeding. */

/** Fields Powertools' Logger adds to every line inside Lambda, for the byte estimate. */
const LAMBDA_LOG_FIELDS = {
  cold_start: false,
  function_arn: 'arn:aws:lambda:us-east-1:123456789012:function:Recurrent-SenderFunction1A2B3C4D',
  function_memory_size: '512',
  function_name: 'Recurrent-SenderFunction1A2B3C4D',
  function_request_id: '8f5a1c2e-4b6d-4e3f-9a7b-1c2d3e4f5a6b',
  sampling_rate: 0,
  xray_trace_id: '1-67a1b2c3-4d5e6f7a8b9c0d1e2f3a4b5c',
};

/**
 * Lambda instances: each concurrent invocation gets an idle instance (its own caches, as on
 * AWS) or a new one; `observe` hears every invocation's duration.
 */
export function instances<E, R>(
  make: () => (event: E, context: Context) => Promise<R>,
  observe: (durationMs: number, isNew: boolean) => void,
): (event: E, context: Context) => Promise<R> {
  const idle: ((event: E, context: Context) => Promise<R>)[] = [];
  return async (event, context) => {
    const reused = idle.pop();
    const instance = reused ?? make();
    const started = performance.now();
    try {
      return await instance(event, context);
    } finally {
      observe(performance.now() - started, reused === undefined);
      idle.push(instance);
    }
  };
}

/** A log that writes nothing but counts the bytes Powertools would write at INFO. */
export function countingLog(name: FunctionName, add: (bytes: number) => void): Log {
  const line = (level: string) => (message: string, extra?: Record<string, unknown>) => {
    const entry = {
      level,
      message,
      timestamp: new Date().toISOString(),
      service: `recurrent-${name}`,
      ...LAMBDA_LOG_FIELDS,
      ...extra,
    };
    add(Buffer.byteLength(`${JSON.stringify(entry)}\n`));
  };
  return { debug: () => {}, info: line('INFO'), warn: line('WARN'), error: line('ERROR') };
}

export async function serveWebhook(
  listener: (request: IncomingMessage, response: ServerResponse) => Promise<void>,
): Promise<Server> {
  const server = createServer((request, response) => {
    listener(request, response).catch(() => {
      response.statusCode = 500;
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return server;
}

/** Saves active subscriptions, placed in the due index, and their token directory entries. */
export async function seedSubscriptions(
  db: ReturnType<typeof createDynamoClient>,
  table: string,
  topic: Topic,
  subscriptions: readonly Subscription[],
): Promise<void> {
  const store = dynamoSubscriptionStore(db, table);
  await store.addTopicZones(topic.pageId, topic.topicId, [{ cadence: topic.cadence, zone: 'UTC' }]);
  // As the opt-in webhooks would have: status webhooks name only the token.
  await store.rememberTokens(
    subscriptions.flatMap(({ token, pageId, psid, topicId }) =>
      token ? [{ token, key: { pageId, psid, topicId } }] : [],
    ),
  );
  // Through the store, so the item layout (due and Page index keys) stays the store's own.
  await mapWithConcurrency(subscriptions, 32, async (subscription) => {
    const outcome = await store.saveFromEvent(
      subscription,
      duePlacement(subscription, topic),
      undefined,
    );
    if (outcome !== 'saved') throw new Error(`subscription ${subscription.psid} was not saved`);
  });
}
