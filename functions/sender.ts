import type { Logger } from '@aws-lambda-powertools/logger';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createDynamoClient, createSqsClient } from '#lib/aws/clients.ts';
import { senderDeps } from '#lib/aws/sender-deps.ts';
import { sendRecordOf } from '#lib/aws/sqs-send-queue.ts';
import { systemClock } from '#lib/clock.ts';
import { readConfig, senderConfigSchema } from '#lib/config.ts';
import {
  DEFAULT_SENDER_OPTIONS,
  type SenderDeps,
  type SenderOptions,
} from '#lib/domain/sending/ports.ts';
import { sendBatch } from '#lib/domain/sending/send-batch.ts';
import { isRetried } from '#lib/domain/sending/send-outcome.ts';
import { graphClient } from '#lib/graph/graph-client.ts';
import { lazyHandler } from '#lib/lambda.ts';
import { createLogger, logLambdaContext } from '#lib/logger.ts';
import { partialBatchResponse } from '#lib/sqs-partial-batch.ts';

/**
 * The send queue's consumer: one batch of jobs, reported back as a partial batch response.
 * `logger` is the Powertools logger behind `deps.log`, whose lines then carry the request id.
 */
export function createSenderHandler(options: SenderOptions, deps: SenderDeps, logger?: Logger) {
  return middy<SQSEvent, SQSBatchResponse>()
    .use(logLambdaContext(logger))
    .handler(async (event) => {
      const results = await sendBatch(event.Records.map(sendRecordOf), deps, options);
      return partialBatchResponse(event.Records, results, isRetried);
    });
}

/** Lambda entry: configuration from the environment, checked once per cold start. */
export const handler = lazyHandler(() => {
  const config = readConfig(senderConfigSchema, process.env);
  const options = { ...DEFAULT_SENDER_OPTIONS, staleAfterMs: config.STALE_AFTER_HOURS * 3_600_000 };
  const { logger, log } = createLogger('sender');
  const deps = senderDeps(
    { dynamo: createDynamoClient(), sqs: createSqsClient() },
    { table: config.TABLE_NAME, queueUrl: config.SEND_QUEUE_URL, burst: options.burst },
    {
      graph: graphClient({ baseUrl: config.META_GRAPH_URL, version: config.META_GRAPH_VERSION }),
      clock: systemClock,
      log,
    },
  );
  return createSenderHandler(options, deps, logger);
});
