import { CfnResource, Duration, RemovalPolicy, Stack, TimeZone, Validations } from 'aws-cdk-lib';
import * as apigwv1 from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type * as z from 'zod';
import { SEND_QUEUE } from '#lib/aws/queue-definition.ts';
import { TABLE } from '#lib/aws/table-definition.ts';
import {
  type adminConfigSchema,
  fanoutConfigSchema,
  senderConfigSchema,
  type webhookConfigSchema,
} from '#lib/config.ts';
import { FANOUT_SCHEDULES, fanoutScheduleInput } from '#lib/schedules.ts';
import { handlerEntry, RecurrentFunction } from './function.ts';
import { RecurringNotificationsMonitoring } from './monitoring.ts';

/** Requests per second and burst the HTTP API's default stage lets through. */
export interface ApiThrottle {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

/** Provisioned capacity, scaled between its bounds on utilization; the due index gets the same. */
export interface ProvisionedCapacity {
  /** @default 5 */
  readonly minReadCapacity?: number;
  readonly maxReadCapacity: number;
  /** @default 5 */
  readonly minWriteCapacity?: number;
  readonly maxWriteCapacity: number;
  /** @default 70 */
  readonly targetUtilizationPercent?: number;
}

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
   * @default alarms without actions (visible in the console and on the dashboard)
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

/** The sender's timeout: the send queue's visibility timeout is six times it, as AWS advises. */
const SENDER_TIMEOUT = Duration.seconds(SEND_QUEUE.senderTimeoutSeconds);

/** DynamoDB actions, as the adapters in lib/aws use them. */
type TableAction =
  | 'GetItem'
  | 'BatchGetItem'
  | 'Query'
  | 'PutItem'
  | 'UpdateItem'
  | 'BatchWriteItem'
  | 'DeleteItem'
  | 'ConditionCheckItem';

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
    const common = {
      bundle: props.bundle ?? true,
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    };

    this.table = this.createTable(props.tableCapacity);
    this.metaSecret = props.metaSecret ?? this.createMetaSecret();

    this.sendDeadLetterQueue = this.createQueue('SendDlq', {
      retentionPeriod: Duration.days(SEND_QUEUE.dlqRetentionDays),
    });
    this.sendQueue = this.createQueue('SendQueue', {
      visibilityTimeout: Duration.seconds(SEND_QUEUE.visibilityTimeoutSeconds),
      // Longer than any staleness limit: an expired job would vanish without a recorded reason.
      retentionPeriod: Duration.days(4),
      deadLetterQueue: {
        queue: this.sendDeadLetterQueue,
        maxReceiveCount: props.sendMaxReceiveCount ?? SEND_QUEUE.maxReceiveCount,
      },
    });
    this.scheduleDeadLetterQueue = this.createQueue('ScheduleDlq', {
      retentionPeriod: Duration.days(14),
    });
    this.fanoutFailureQueue = this.createQueue('FanoutFailureQueue', {
      retentionPeriod: Duration.days(14),
    });
    for (const queue of [this.scheduleDeadLetterQueue, this.fanoutFailureQueue]) {
      Validations.of(queue).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason: 'This queue is itself a dead-letter queue (Scheduler DLQ or Lambda on-failure).',
      });
    }

    const webhookEnvironment: WebhookEnvironment = {
      TABLE_NAME: this.table.tableName,
      META_SECRET_ARN: this.metaSecret.secretArn,
    };
    this.webhook = new RecurrentFunction(this, 'Webhook', {
      ...common,
      entry: handlerEntry('webhook'),
      description: "Meta's webhook: handshake and signed deliveries",
      // A 1,000-event delivery takes about 1.3 s on DynamoDB Local; Meta waits 5 s at most.
      memorySize: 1024,
      timeout: Duration.seconds(4),
      environment: webhookEnvironment,
    });
    this.grantTable(this.webhook, [
      'GetItem',
      'BatchGetItem',
      'PutItem',
      'UpdateItem',
      'BatchWriteItem',
    ]);
    this.metaSecret.grantRead(this.webhook);
    if (this.encryptionKey && !props.metaSecret) this.grantSecretKey(this.webhook);

    const fanoutEnvironment: EnvironmentOf<typeof fanoutConfigSchema> = {
      TABLE_NAME: this.table.tableName,
      SEND_QUEUE_URL: this.sendQueue.queueUrl,
      LOOKBACK_HOURS: String(
        props.lookbackHours ?? fanoutConfigSchema.shape.LOOKBACK_HOURS.parse(undefined),
      ),
    };
    this.fanout = new RecurrentFunction(this, 'Fanout', {
      ...common,
      entry: handlerEntry('fanout'),
      description: 'Queues the send jobs of one cadence run, handing large runs over to itself',
      memorySize: 512,
      timeout: Duration.minutes(5),
      environment: fanoutEnvironment,
      // Scheduled runs and continuations are asynchronous invocations: two retries, then kept.
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
      onFailure: new SqsDestination(this.fanoutFailureQueue),
    });
    // Registry and Page items (table), run state (Get/Update), due partitions (index).
    this.grantTable(this.fanout, ['Query', 'GetItem', 'UpdateItem']);
    this.grantIndexQuery(this.fanout, [TABLE.dueIndex.name]);
    this.sendQueue.grant(this.fanout, 'sqs:SendMessage');
    this.grantSelfInvoke(this.fanout);

    const senderEnvironment: EnvironmentOf<typeof senderConfigSchema> = {
      TABLE_NAME: this.table.tableName,
      SEND_QUEUE_URL: this.sendQueue.queueUrl,
      META_GRAPH_URL:
        props.metaGraphUrl ?? senderConfigSchema.shape.META_GRAPH_URL.parse(undefined),
      META_GRAPH_VERSION:
        props.metaGraphVersion ?? senderConfigSchema.shape.META_GRAPH_VERSION.parse(undefined),
      STALE_AFTER_HOURS: String(
        props.staleAfterHours ?? senderConfigSchema.shape.STALE_AFTER_HOURS.parse(undefined),
      ),
    };
    this.sender = new RecurrentFunction(this, 'Sender', {
      ...common,
      entry: handlerEntry('sender'),
      description: 'Sends queued jobs to Meta, paced per Page, once per slot',
      memorySize: 512,
      timeout: SENDER_TIMEOUT,
      environment: senderEnvironment,
    });
    // Subscriptions (BatchGet), Pages and topics (Get), claims, rate buckets, stats (Update).
    this.grantTable(this.sender, ['GetItem', 'BatchGetItem', 'UpdateItem']);
    // Receive, delete and change visibility (deferrals) on the send queue.
    this.sender.addEventSource(
      new SqsEventSource(this.sendQueue, {
        batchSize: SEND_QUEUE.batchSize,
        maxConcurrency: props.senderMaxConcurrency ?? SEND_QUEUE.maxConcurrency,
        reportBatchItemFailures: true,
      }),
    );

    this.schedules = this.scheduleFanouts();
    const api = this.createApi(props.apiThrottle ?? { rateLimit: 100, burstLimit: 200 }, common);
    this.api = api.api;
    this.apiStage = api.stage;
    this.webhookUrl = `${this.apiStage.url}webhook`;
    this.api.addRoutes({
      path: '/webhook',
      methods: [apigw.HttpMethod.GET, apigw.HttpMethod.POST],
      integration: new HttpLambdaIntegration('WebhookIntegration', this.webhook),
    });

    const adminEnvironment: EnvironmentOf<typeof adminConfigSchema> = {
      TABLE_NAME: this.table.tableName,
      SEND_QUEUE_URL: this.sendQueue.queueUrl,
      FANOUT_FUNCTION_NAME: this.fanout.functionName,
      META_GRAPH_URL: senderEnvironment.META_GRAPH_URL,
      META_GRAPH_VERSION: senderEnvironment.META_GRAPH_VERSION,
      LOOKBACK_HOURS: fanoutEnvironment.LOOKBACK_HOURS,
    };
    this.admin = new RecurrentFunction(this, 'Admin', {
      ...common,
      entry: handlerEntry('admin'),
      description: "The operators' API: Pages, topics, subscriptions, opt-in requests, erasure",
      memorySize: 512,
      // API Gateway's own integration limit is 30 s.
      timeout: Duration.seconds(29),
      environment: adminEnvironment,
    });
    // Pages and topics (Put, TransactWrite), listings (Query, BatchGet), placements, opt-in
    // claims and stats (Update), reconciled tokens (BatchWrite), contact erasure (Delete).
    this.grantTable(this.admin, [
      'GetItem',
      'BatchGetItem',
      'Query',
      'PutItem',
      'UpdateItem',
      'BatchWriteItem',
      'DeleteItem',
    ]);
    this.grantIndexQuery(this.admin, [TABLE.pageIndex.name, TABLE.dueIndex.name]);
    this.sendQueue.grant(this.admin, 'sqs:SendMessage');
    // A fan-out run too big for the admin request continues in the fan-out function.
    this.admin.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [this.fanout.functionArn],
      }),
    );
    this.api.addRoutes({
      path: '/admin/{proxy+}',
      methods: [apigw.HttpMethod.ANY],
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
  }

  /** The one table, built from the definition the local runtime shares. */
  private createTable(capacity: ProvisionedCapacity | undefined): dynamodb.Table {
    const string = (name: string) => ({ name, type: dynamodb.AttributeType.STRING });
    const { dueIndex, pageIndex } = TABLE;
    const initial = capacity && {
      readCapacity: capacity.minReadCapacity ?? 5,
      writeCapacity: capacity.minWriteCapacity ?? 5,
    };
    const table = new dynamodb.Table(this, 'Table', {
      partitionKey: string(TABLE.partitionKey),
      sortKey: string(TABLE.sortKey),
      billingMode: capacity
        ? dynamodb.BillingMode.PROVISIONED
        : dynamodb.BillingMode.PAY_PER_REQUEST,
      ...initial,
      ...(this.encryptionKey
        ? {
            encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryptionKey: this.encryptionKey,
          }
        : { encryption: dynamodb.TableEncryption.AWS_MANAGED }),
      timeToLiveAttribute: TABLE.timeToLiveAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      // Subscribers' tokens cannot be collected again: the table outlives the stack.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    table.addGlobalSecondaryIndex({
      indexName: dueIndex.name,
      partitionKey: string(dueIndex.partitionKey),
      sortKey: string(dueIndex.sortKey),
      projectionType: dynamodb.ProjectionType.INCLUDE,
      nonKeyAttributes: [...dueIndex.projectedAttributes],
      ...initial,
    });
    table.addGlobalSecondaryIndex({
      indexName: pageIndex.name,
      partitionKey: string(pageIndex.partitionKey),
      sortKey: string(pageIndex.sortKey),
      projectionType: dynamodb.ProjectionType.KEYS_ONLY,
      ...initial,
    });
    if (capacity && initial) {
      const scaling = (min: number, max: number) => ({ minCapacity: min, maxCapacity: max });
      const utilization = { targetUtilizationPercent: capacity.targetUtilizationPercent ?? 70 };
      const read = scaling(initial.readCapacity, capacity.maxReadCapacity);
      const write = scaling(initial.writeCapacity, capacity.maxWriteCapacity);
      table.autoScaleReadCapacity(read).scaleOnUtilization(utilization);
      table.autoScaleWriteCapacity(write).scaleOnUtilization(utilization);
      for (const index of [dueIndex.name, pageIndex.name]) {
        table
          .autoScaleGlobalSecondaryIndexReadCapacity(index, read)
          .scaleOnUtilization(utilization);
        table
          .autoScaleGlobalSecondaryIndexWriteCapacity(index, write)
          .scaleOnUtilization(utilization);
      }
    }
    return table;
  }

  /** A secret with a generated verify token; the operator fills in Meta's app secret. */
  private createMetaSecret(): secretsmanager.Secret {
    const secret = new secretsmanager.Secret(this, 'MetaSecret', {
      description:
        'Recurrent: Meta app secret (fill in appSecret) and the webhook verify token (generated)',
      ...(this.encryptionKey && { encryptionKey: this.encryptionKey }),
      generateSecretString: {
        // An empty app secret fails the webhook's configuration check: nothing is accepted.
        secretStringTemplate: JSON.stringify({ appSecret: '' }),
        generateStringKey: 'verifyToken',
        excludePunctuation: true,
        passwordLength: 32,
      },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        "The Meta app secret is issued and rotated in Meta's app dashboard, not by a rotation Lambda; the verify token is rotated by hand together with Meta's webhook settings.",
    });
    return secret;
  }

  private createQueue(id: string, props: sqs.QueueProps): sqs.Queue {
    return new sqs.Queue(this, id, {
      ...props,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // Jobs are derived from the table, which is kept: the next run queues them again.
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }

  /** Explicit DynamoDB actions on the table itself (not its indexes), plus its key if any. */
  private grantTable(fn: RecurrentFunction, actions: readonly TableAction[]): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: actions.map((action) => `dynamodb:${action}`),
        resources: [this.table.tableArn],
      }),
    );
    this.grantTableKey(fn);
  }

  /** Query on the named indexes only. */
  private grantIndexQuery(fn: RecurrentFunction, indexNames: readonly string[]): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: indexNames.map((name) => `${this.table.tableArn}/index/${name}`),
      }),
    );
  }

  private grantTableKey(fn: RecurrentFunction): void {
    if (!this.encryptionKey) return;
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
        resources: [this.encryptionKey.keyArn],
        conditions: {
          StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(this).region}.amazonaws.com` },
        },
      }),
    );
  }

  /** Decrypting the Meta secret this construct encrypted with the customer-managed key. */
  private grantSecretKey(fn: RecurrentFunction): void {
    if (!this.encryptionKey) return;
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [this.encryptionKey.keyArn],
        conditions: {
          StringEquals: {
            'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com`,
          },
        },
      }),
    );
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

  /** One EventBridge Scheduler schedule per fan-out schedule definition, in one group. */
  private scheduleFanouts(): scheduler.Schedule[] {
    const group = new scheduler.ScheduleGroup(this, 'Schedules', {
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const stack = Stack.of(this);
    const role = new iam.Role(this, 'SchedulerRole', {
      description: 'EventBridge Scheduler: invokes the fan-out, writes to its DLQ',
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    });
    // LambdaInvoke grants `<fn>` and `<fn>:*`; only the unqualified function is invoked.
    const fanoutResource = this.fanout.node.defaultChild;
    if (!CfnResource.isCfnResource(fanoutResource)) throw new Error('fan-out has no resource');
    const fanoutLogicalId = stack.resolve(fanoutResource.logicalId);
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${fanoutLogicalId}.Arn>:*]`,
      reason:
        'The Scheduler target grant adds the version wildcard of the fan-out function; schedules invoke the unqualified function only.',
    });
    return FANOUT_SCHEDULES.map(
      (definition) =>
        new scheduler.Schedule(this, definition.id, {
          scheduleGroup: group,
          description: `Recurrent fan-out of ${definition.cadence} topics`,
          schedule: scheduler.ScheduleExpression.expression(
            definition.expression,
            TimeZone.ETC_UTC,
          ),
          target: new LambdaInvoke(this.fanout, {
            role,
            input: scheduler.ScheduleTargetInput.fromText(fanoutScheduleInput(definition.cadence)),
            // A run missed for longer is caught up by the next one (lookback).
            retryAttempts: 2,
            maxEventAge: Duration.minutes(15),
            deadLetterQueue: this.scheduleDeadLetterQueue,
          }),
        }),
    );
  }

  /** The HTTP API with its default stage: throttled, access-logged as JSON. */
  private createApi(
    throttle: ApiThrottle,
    common: { logRetention: logs.RetentionDays },
  ): { api: apigw.HttpApi; stage: apigw.HttpStage } {
    const api = new apigw.HttpApi(this, 'Api', {
      description: "Recurrent: Meta's webhook and the admin API",
      createDefaultStage: false,
    });
    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', {
      retention: common.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const stage = new apigw.HttpStage(this, 'ApiStage', {
      httpApi: api,
      stageName: '$default',
      autoDeploy: true,
      throttle,
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(accessLogs),
        format: apigwv1.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            requestTime: '$context.requestTime',
            routeKey: '$context.routeKey',
            status: '$context.status',
            responseLength: '$context.responseLength',
            responseLatency: '$context.responseLatency',
            integrationLatency: '$context.integrationLatency',
            integrationStatus: '$context.integrationStatus',
            integrationError: '$context.integrationErrorMessage',
            errorMessage: '$context.error.message',
            sourceIp: '$context.identity.sourceIp',
            userAgent: '$context.identity.userAgent',
            userArn: '$context.identity.userArn',
          }),
        ),
      },
    });
    return { api, stage };
  }
}
