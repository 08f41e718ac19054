import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as z from 'zod';
import {
  type adminConfigSchema,
  fanoutConfigSchema,
  senderConfigSchema,
  type webhookConfigSchema,
} from '#lib/config.ts';

/*
 * Each function's environment, typed by the schema its handler reads it with (lib/config.ts):
 * a variable the handler needs and the stack does not set fails the type check.
 */

/** The variables a config schema reads, as Lambda environment strings; Lambda sets `AWS_*` itself. */
type EnvironmentOf<S extends z.ZodType> = {
  [K in keyof z.input<S> as K extends `AWS_${string}` ? never : K]: string;
};

/**
 * The webhook reads the Meta app secret and verify token from Secrets Manager once per cold
 * start (`META_SECRET_ARN`), never from plain environment variables.
 */
type WebhookEnvironment = Omit<
  EnvironmentOf<typeof webhookConfigSchema>,
  'META_APP_SECRET' | 'META_VERIFY_TOKEN'
> & { META_SECRET_ARN: string };

/** The props that tune what the functions read from their environment. */
export interface EnvironmentProps {
  readonly lookbackHours?: number;
  readonly staleAfterHours?: number;
  readonly metaGraphUrl?: string;
  readonly metaGraphVersion?: string;
}

/** The webhook's: the table, and where its secrets are. */
export function webhookEnvironment(
  table: dynamodb.ITable,
  metaSecret: secretsmanager.ISecret,
): WebhookEnvironment {
  return { TABLE_NAME: table.tableName, META_SECRET_ARN: metaSecret.secretArn };
}

/** The fan-out's: the table, the send queue, how far back a run looks. */
export function fanoutEnvironment(
  table: dynamodb.ITable,
  sendQueue: sqs.IQueue,
  props: EnvironmentProps,
): EnvironmentOf<typeof fanoutConfigSchema> {
  return {
    TABLE_NAME: table.tableName,
    SEND_QUEUE_URL: sendQueue.queueUrl,
    LOOKBACK_HOURS: lookbackHours(props),
  };
}

/** The sender's: the table, the send queue, Meta's Graph API, when a job is stale. */
export function senderEnvironment(
  table: dynamodb.ITable,
  sendQueue: sqs.IQueue,
  props: EnvironmentProps,
): EnvironmentOf<typeof senderConfigSchema> {
  return {
    TABLE_NAME: table.tableName,
    SEND_QUEUE_URL: sendQueue.queueUrl,
    ...graphEnvironment(props),
    STALE_AFTER_HOURS: String(
      props.staleAfterHours ?? senderConfigSchema.shape.STALE_AFTER_HOURS.parse(undefined),
    ),
  };
}

/** The dead-letter queues the admin API's diagnostics expect empty. */
export interface DeadLetterQueues {
  send: sqs.IQueue;
  schedule: sqs.IQueue;
  fanoutFailure: sqs.IQueue;
}

/**
 * The admin API's: the table, the send queue, the fan-out to hand over to, Meta's Graph API,
 * and the dead-letter queues its diagnostics read.
 */
export function adminEnvironment(
  table: dynamodb.ITable,
  sendQueue: sqs.IQueue,
  fanout: lambda.IFunction,
  props: EnvironmentProps,
  deadLetterQueues: DeadLetterQueues,
): EnvironmentOf<typeof adminConfigSchema> {
  return {
    TABLE_NAME: table.tableName,
    SEND_QUEUE_URL: sendQueue.queueUrl,
    FANOUT_FUNCTION_NAME: fanout.functionName,
    ...graphEnvironment(props),
    LOOKBACK_HOURS: lookbackHours(props),
    SEND_DLQ_URL: deadLetterQueues.send.queueUrl,
    SCHEDULE_DLQ_URL: deadLetterQueues.schedule.queueUrl,
    FANOUT_FAILURE_QUEUE_URL: deadLetterQueues.fanoutFailure.queueUrl,
  };
}

/** Where the sender and the admin API find Meta's Graph API. */
function graphEnvironment(props: EnvironmentProps) {
  return {
    META_GRAPH_URL: props.metaGraphUrl ?? senderConfigSchema.shape.META_GRAPH_URL.parse(undefined),
    META_GRAPH_VERSION:
      props.metaGraphVersion ?? senderConfigSchema.shape.META_GRAPH_VERSION.parse(undefined),
  };
}

/** How far back the fan-out (and the admin API's runs) look for missed slots. */
function lookbackHours(props: EnvironmentProps): string {
  return String(props.lookbackHours ?? fanoutConfigSchema.shape.LOOKBACK_HOURS.parse(undefined));
}
