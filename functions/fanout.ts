import type { Logger } from '@aws-lambda-powertools/logger';
import { LambdaClient } from '@aws-sdk/client-lambda';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { createDynamoClient, createSqsClient } from '#lib/aws/clients.ts';
import { awsContentSources } from '#lib/aws/content-source-parts.ts';
import { fanoutDeps } from '#lib/aws/fanout-deps.ts';
import { lambdaContinuations } from '#lib/aws/lambda-continuations.ts';
import { fanoutConfigSchema, readConfig } from '#lib/config.ts';
import {
  type FanoutDeps,
  type FanoutResult,
  parseFanoutInput,
  runFanout,
} from '#lib/domain/fanout/run-fanout.ts';
import { lazyHandler } from '#lib/lambda.ts';
import { createLogger, logLambdaContext } from '#lib/logger.ts';

/**
 * One fan-out run per schedule event `{cadence, scheduledTime}` (or a continuation of one).
 * `logger` is the Powertools logger behind `deps.log`, whose lines then carry the request id.
 */
export function createFanoutHandler(deps: Omit<FanoutDeps, 'timeLeft'>, logger?: Logger) {
  return middy<unknown, FanoutResult, Error, Context>()
    .use(logLambdaContext(logger))
    .handler(async (event, context) => {
      const input = parseFanoutInput(event);
      return runFanout(input, { ...deps, timeLeft: () => context.getRemainingTimeInMillis() });
    });
}

/** Lambda entry: configuration from the environment, checked once per cold start. */
export const handler = lazyHandler(() => {
  const config = readConfig(fanoutConfigSchema, process.env);
  const { logger, log } = createLogger('fanout');
  return createFanoutHandler(
    fanoutDeps(
      { dynamo: createDynamoClient(), sqs: createSqsClient() },
      {
        table: config.TABLE_NAME,
        queueUrl: config.SEND_QUEUE_URL,
        lookbackHours: config.LOOKBACK_HOURS,
      },
      {
        continuations: lambdaContinuations(new LambdaClient({}), config.AWS_LAMBDA_FUNCTION_NAME),
        log,
        contentSources: awsContentSources(config),
      },
    ),
    logger,
  );
});
