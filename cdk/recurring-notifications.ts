import { Annotations, Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { SEND_QUEUE } from '#lib/aws/queue-definition.ts';
import { TABLE } from '#lib/aws/table-definition.ts';
import { type ApiThrottle, createApi } from './api.ts';
import { ContentSources } from './content-sources.ts';
import {
  adminEnvironment,
  fanoutEnvironment,
  senderEnvironment,
  webhookEnvironment,
} from './environment.ts';
import { type FunctionDefaults, handlerEntry, RecurrentFunction } from './function.ts';
import { RecurringNotificationsMonitoring } from './monitoring.ts';
import { scheduleRuns } from './schedules.ts';
import {
  createMetaSecret,
  createQueue,
  createTable,
  grantIndexQuery,
  grantSecretKey,
  grantTableActions,
  type ProvisionedCapacity,
  type TableAction,
} from './storage.ts';

export type { ApiThrottle } from './api.ts';
export type { ProvisionedCapacity } from './storage.ts';

/** How a business deploys Recurrent: every prop has a default that suits one account. */
export interface RecurringNotificationsProps {
  /**
   * Bundle the handlers with esbuild. `false` deploys stubs that only throw: for tests that
   * inspect the template, never for a real deployment.
   * @default true
   */
  readonly bundle?: boolean;
  /**
   * Provisioned capacity with auto scaling for the table and its due index.
   * @default on-demand
   */
  readonly tableCapacity?: ProvisionedCapacity;
  /**
   * A customer-managed key for the data that holds secrets: the table (Page and subscription
   * tokens) and the Meta secret. Queues stay SQS-encrypted: jobs carry ids, never tokens.
   * @default AWS-managed keys
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * The Meta app secret and verify token, one JSON secret `{"appSecret", "verifyToken"}`.
   * @default a new secret with a generated `verifyToken` and an empty `appSecret` to fill in
   */
  readonly metaSecret?: secretsmanager.ISecret;
  /**
   * Throttling of the HTTP API's default stage.
   * @default { rateLimit: 100, burstLimit: 200 }
   */
  readonly apiThrottle?: ApiThrottle;
  /**
   * The most sender invocations the send queue drives at once (SQS event source maxConcurrency).
   * @default 5
   */
  readonly senderMaxConcurrency?: number;
  /**
   * Receives before a send job goes to the DLQ. A deferral (cooldown, rate) is a receive too.
   * @default 20
   */
  readonly sendMaxReceiveCount?: number;
  /** @default the fan-out's own default (`LOOKBACK_HOURS` in lib/config.ts) */
  readonly lookbackHours?: number;
  /** @default the sender's own default (`STALE_AFTER_HOURS` in lib/config.ts) */
  readonly staleAfterHours?: number;
  /** @default the sender's own default (`META_GRAPH_URL` in lib/config.ts) */
  readonly metaGraphUrl?: string;
  /** @default the sender's own default (`META_GRAPH_VERSION` in lib/config.ts) */
  readonly metaGraphVersion?: string;
  /**
   * Retention of the functions' and the API's log groups.
   * @default one month
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Where alarms notify.
   * @default alarms without actions (visible in the console and on the dashboard), and a
   * `recurrent:noAlarmTarget` warning at synth
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Alarm when the oldest send job has waited this long (jobs older than `staleAfterHours` are
   * dropped).
   * @default 2 hours
   */
  readonly sendQueueAgeAlarm?: Duration;
  /**
   * CloudWatch namespace of the metrics counted from the functions' logs.
   * @default `Recurrent/<stack name>`
   */
  readonly metricNamespace?: string;
}

/** The id of the warning that no alarm notifies anyone, to acknowledge it on purpose. */
export const NO_ALARM_TARGET_WARNING = 'recurrent:noAlarmTarget';

/** The sender's timeout: the send queue's visibility timeout is six times it, as AWS advises. */
const SENDER_TIMEOUT = Duration.seconds(SEND_QUEUE.senderTimeoutSeconds);

/**
 * Recurrent on AWS: the webhook behind an HTTP API, a fan-out per cadence fired by
 * EventBridge Scheduler, the send queue and its sender, the one table, the Meta secret,
 * alarms and a dashboard.
 */
export class RecurringNotifications extends Construct {
  readonly table: dynamodb.Table;
  readonly sendQueue: sqs.Queue;
  readonly sendDeadLetterQueue: sqs.Queue;
  /** Where Scheduler puts fan-out invocations it could not make. */
  readonly scheduleDeadLetterQueue: sqs.Queue;
  /** Where Lambda puts fan-out invocations (scheduled or continuations) that kept failing. */
  readonly fanoutFailureQueue: sqs.Queue;
  readonly metaSecret: secretsmanager.ISecret;
  readonly webhook: RecurrentFunction;
  readonly fanout: RecurrentFunction;
  readonly sender: RecurrentFunction;
  /** The operators' API, behind `/admin/{proxy+}` with IAM authorization. */
  readonly admin: RecurrentFunction;
  readonly api: apigw.HttpApi;
  readonly apiStage: apigw.HttpStage;
  readonly schedules: readonly scheduler.Schedule[];
  readonly monitoring: RecurringNotificationsMonitoring;
  /** The webhook's public URL, for Meta's app dashboard. */
  readonly webhookUrl: string;

  private readonly encryptionKey: kms.IKey | undefined;

  constructor(scope: Construct, id: string, props: RecurringNotificationsProps = {}) {
    super(scope, id);
    this.encryptionKey = props.encryptionKey;
    const common: FunctionDefaults = {
      bundle: props.bundle ?? true,
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    };

    this.table = createTable(this, props.tableCapacity, this.encryptionKey);
    this.metaSecret = props.metaSecret ?? createMetaSecret(this, this.encryptionKey);
    this.sendDeadLetterQueue = createQueue(this, 'SendDlq', {
      retentionPeriod: Duration.days(SEND_QUEUE.dlqRetentionDays),
    });
    this.sendQueue = createQueue(this, 'SendQueue', {
      visibilityTimeout: Duration.seconds(SEND_QUEUE.visibilityTimeoutSeconds),
      // Longer than any staleness limit: an expired job would vanish without a recorded reason.
      retentionPeriod: Duration.days(4),
      deadLetterQueue: {
        queue: this.sendDeadLetterQueue,
        maxReceiveCount: props.sendMaxReceiveCount ?? SEND_QUEUE.maxReceiveCount,
      },
    });
    this.scheduleDeadLetterQueue = createQueue(this, 'ScheduleDlq', {
      retentionPeriod: Duration.days(14),
    });
    this.fanoutFailureQueue = createQueue(this, 'FanoutFailureQueue', {
      retentionPeriod: Duration.days(14),
    });
    for (const queue of [this.scheduleDeadLetterQueue, this.fanoutFailureQueue]) {
      Validations.of(queue).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason: 'This queue is itself a dead-letter queue (Scheduler DLQ or Lambda on-failure).',
      });
    }

    this.webhook = this.createWebhook(common, props);
    this.fanout = this.createFanout(common, props);
    this.sender = this.createSender(common, props);

    const api = createApi(
      this,
      props.apiThrottle ?? { rateLimit: 100, burstLimit: 200 },
      common.logRetention,
    );
    this.api = api.api;
    this.apiStage = api.stage;
    this.webhookUrl = `${this.apiStage.url}webhook`;
    this.api.addRoutes({
      path: '/webhook',
      methods: [HttpMethod.GET, HttpMethod.POST],
      integration: new HttpLambdaIntegration('WebhookIntegration', this.webhook),
    });
    this.admin = this.createAdmin(common, props);
    new ContentSources(this, 'ContentSources', this);
    this.schedules = scheduleRuns(this, this, this.scheduleDeadLetterQueue);
    this.api.addRoutes({
      path: '/admin/{proxy+}',
      methods: [HttpMethod.ANY],
      integration: new HttpLambdaIntegration('AdminIntegration', this.admin),
      authorizer: new HttpIamAuthorizer(),
    });
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        "Meta calls /webhook without AWS credentials; the handler checks Meta's HMAC signature (X-Hub-Signature-256) and the verify token.",
    });

    this.monitoring = new RecurringNotificationsMonitoring(this, 'Monitoring', {
      functions: {
        webhook: this.webhook,
        fanout: this.fanout,
        sender: this.sender,
        admin: this.admin,
      },
      api: this.api,
      sendQueue: this.sendQueue,
      deadLetterQueues: {
        send: this.sendDeadLetterQueue,
        schedule: this.scheduleDeadLetterQueue,
        fanoutFailure: this.fanoutFailureQueue,
      },
      sendQueueAgeAlarm: props.sendQueueAgeAlarm ?? Duration.hours(2),
      namespace: props.metricNamespace ?? `Recurrent/${Stack.of(this).stackName}`,
      ...(props.alarmTopic && { alarmTopic: props.alarmTopic }),
    });
    if (!props.alarmTopic) this.warnNoAlarmTarget();
  }

  /** Said at synth and deploy: without a target, a failing deployment alarms nobody. */
  private warnNoAlarmTarget(): void {
    const alarms = this.node.findAll().filter((c) => c instanceof cloudwatch.Alarm).length;
    Annotations.of(this).addWarningV2(
      NO_ALARM_TARGET_WARNING,
      `No alarm target: the ${alarms} alarms notify nobody. Deploy the app with ` +
        '`npx cdk deploy -c alarmEmail=you@example.com`, or give RecurringNotifications an ' +
        '`alarmTopic` (an SNS topic) in your own CDK app.',
    );
  }

  /** Meta's webhook: writes what deliveries say, reads the Meta secret. */
  private createWebhook(
    common: FunctionDefaults,
    props: RecurringNotificationsProps,
  ): RecurrentFunction {
    const webhook = new RecurrentFunction(this, 'Webhook', {
      ...common,
      entry: handlerEntry('webhook'),
      description: "Meta's webhook: handshake and signed deliveries",
      // A 1,000-event delivery takes about 1.3 s on DynamoDB Local; Meta waits 5 s at most.
      memorySize: 1024,
      timeout: Duration.seconds(4),
      environment: webhookEnvironment(this.table, this.metaSecret),
    });
    // Query: a token's kept MM sends (clicks, failures) and a person's partition (markHolders).
    this.grantTable(webhook, [
      'GetItem',
      'BatchGetItem',
      'PutItem',
      'UpdateItem',
      'BatchWriteItem',
      'Query',
    ]);
    this.metaSecret.grantRead(webhook);
    if (!props.metaSecret) grantSecretKey(webhook, this.encryptionKey);
    return webhook;
  }

  /** The fan-out: reads the due index, queues send jobs, hands large runs over to itself. */
  private createFanout(
    common: FunctionDefaults,
    props: RecurringNotificationsProps,
  ): RecurrentFunction {
    const fanout = new RecurrentFunction(this, 'Fanout', {
      ...common,
      entry: handlerEntry('fanout'),
      description: 'Queues the send jobs of one cadence run, handing large runs over to itself',
      memorySize: 512,
      timeout: Duration.minutes(5),
      environment: fanoutEnvironment(this.table, this.sendQueue, props),
      // Scheduled runs and continuations are asynchronous invocations: two retries, then kept.
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
      onFailure: new SqsDestination(this.fanoutFailureQueue),
    });
    // Registry and Page items (table), run state (Get/Update), due partitions (index).
    this.grantTable(fanout, ['Query', 'GetItem', 'UpdateItem']);
    grantIndexQuery(fanout, this.table, [TABLE.dueIndex.name]);
    this.sendQueue.grant(fanout, 'sqs:SendMessage');
    this.grantSelfInvoke(fanout);
    return fanout;
  }

  /** The sender: the send queue's consumer, calling Meta. */
  private createSender(
    common: FunctionDefaults,
    props: RecurringNotificationsProps,
  ): RecurrentFunction {
    const sender = new RecurrentFunction(this, 'Sender', {
      ...common,
      entry: handlerEntry('sender'),
      description: 'Sends queued jobs to Meta, paced per Page, once per slot',
      memorySize: 512,
      timeout: SENDER_TIMEOUT,
      environment: senderEnvironment(this.table, this.sendQueue, props),
    });
    // Subscriptions (BatchGet), Pages and topics (Get), claims, rate buckets, stats (Update), kept
    // MM sends (BatchWrite), a person's partition (Query: the budget, a stopped or capped token).
    this.grantTable(sender, ['GetItem', 'BatchGetItem', 'UpdateItem', 'BatchWriteItem', 'Query']);
    // Receive, delete and change visibility (deferrals) on the send queue.
    sender.addEventSource(
      new SqsEventSource(this.sendQueue, {
        batchSize: SEND_QUEUE.batchSize,
        maxConcurrency: props.senderMaxConcurrency ?? SEND_QUEUE.maxConcurrency,
        reportBatchItemFailures: true,
      }),
    );
    return sender;
  }

  /** The operators' API: most of the table, both indexes, the send queue, the fan-out. */
  private createAdmin(
    common: FunctionDefaults,
    props: RecurringNotificationsProps,
  ): RecurrentFunction {
    const admin = new RecurrentFunction(this, 'Admin', {
      ...common,
      entry: handlerEntry('admin'),
      description: "The operators' API: Pages, topics, subscriptions, opt-in requests, erasure",
      memorySize: 512,
      // API Gateway's own integration limit is 30 s.
      timeout: Duration.seconds(29),
      environment: adminEnvironment(this.table, this.sendQueue, this.fanout, props, {
        send: this.sendDeadLetterQueue,
        schedule: this.scheduleDeadLetterQueue,
        fanoutFailure: this.fanoutFailureQueue,
      }),
    });
    // Pages and topics (Put, TransactWrite), listings (Query, BatchGet), placements, opt-in
    // claims and stats (Update), reconciled tokens (BatchWrite), contact erasure (Delete).
    this.grantTable(admin, [
      'GetItem',
      'BatchGetItem',
      'Query',
      'PutItem',
      'UpdateItem',
      'BatchWriteItem',
      'DeleteItem',
    ]);
    grantIndexQuery(admin, this.table, [TABLE.pageIndex.name, TABLE.dueIndex.name]);
    this.sendQueue.grant(admin, 'sqs:SendMessage');
    // The diagnostics count what waits in each dead-letter queue.
    const deadLetterQueues = [this.sendDeadLetterQueue, this.scheduleDeadLetterQueue];
    for (const queue of [...deadLetterQueues, this.fanoutFailureQueue]) {
      queue.grant(admin, 'sqs:GetQueueAttributes');
    }
    // A fan-out run too big for the admin request continues in the fan-out function.
    admin.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [this.fanout.functionArn],
      }),
    );
    return admin;
  }

  /** Explicit actions on the table itself, and on its key when it has a customer-managed one. */
  private grantTable(fn: RecurrentFunction, actions: readonly TableAction[]): void {
    grantTableActions(fn, this.table, actions, this.encryptionKey);
  }

  /**
   * Lets the fan-out invoke itself for continuations. A policy of its own: in the role's
   * default policy the function's ARN would make a circular dependency (function -> policy).
   */
  private grantSelfInvoke(fn: RecurrentFunction): void {
    new iam.Policy(this, 'FanoutSelfInvoke', {
      roles: fn.role ? [fn.role] : [],
      statements: [
        new iam.PolicyStatement({
          actions: ['lambda:InvokeFunction'],
          resources: [fn.functionArn],
        }),
      ],
    });
  }
}
