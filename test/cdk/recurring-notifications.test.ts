import { Duration, type Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { TABLE } from '#lib/aws/table-definition.ts';
import { CONTENT_SOURCE_FAILED_LOG_MESSAGE } from '#lib/domain/content-source.ts';
import {
  PAGE_HELD_LOG_MESSAGE,
  PAGE_PAUSED_LOG_MESSAGE,
  STATS_LOG_MESSAGE,
  TOPIC_PAUSED_LOG_MESSAGE,
} from '#lib/domain/stats.ts';
import {
  FANOUT_SCHEDULES,
  fanoutScheduleInput,
  RECONCILE_SCHEDULE,
  reconcileScheduleInput,
} from '#lib/schedules.ts';
import type { RecurringNotifications } from '../../cdk/recurring-notifications.ts';
import { actionsOf, logicalId, permissionsOf, statementsOf, synthesize } from './synth.ts';

const META_SECRET_ARN =
  'arn:aws:secretsmanager:eu-west-1:111122223333:secret:recurrent/meta-AbCdEf';
const KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const FUNCTIONS = ['webhook', 'fanout', 'sender', 'admin'] as const;
/** Every content source secret of the stack: `recurrent/<stack>/content-source/*`. */
const CONTENT_SECRETS = {
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':secretsmanager:',
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      ':secret:recurrent/Test/content-source/*',
    ],
  ],
};

/** The permissions that name a Secrets Manager action. */
function onSecrets(permissions: { actions: string[]; resource: unknown }[]) {
  return permissions.filter(({ actions }) =>
    actions.some((action) => action.startsWith('secretsmanager:')),
  );
}
type FunctionName = (typeof FUNCTIONS)[number];

describe('RecurringNotifications with its defaults', () => {
  let stack: Stack;
  let template: Template;
  let recurrent: RecurringNotifications;
  const id = (construct: Parameters<typeof logicalId>[1]) => logicalId(stack, construct);
  const ref = (construct: Parameters<typeof logicalId>[1]) => ({ Ref: id(construct) });
  const arn = (construct: Parameters<typeof logicalId>[1]) => ({
    'Fn::GetAtt': [id(construct), 'Arn'],
  });
  const functionProps = (name: FunctionName) =>
    template.toJSON().Resources[id(recurrent[name])].Properties;
  const roleStatements = (name: FunctionName) => {
    const role = recurrent[name].role;
    if (!role) throw new Error(`${name} has no role`);
    return statementsOf(template, id(role));
  };

  beforeAll(() => {
    ({ stack, template } = synthesize());
    ({ recurrent } = stack as Stack & { recurrent: RecurringNotifications });
  });

  describe('functions', () => {
    it.each(FUNCTIONS)(
      'runs %s on Node.js 24, arm64, with JSON logs to its own log group and source maps',
      (name) => {
        template.hasResourceProperties('AWS::Lambda::Function', {
          FunctionName: Match.absent(),
          Runtime: 'nodejs24.x',
          Architectures: ['arm64'],
          LoggingConfig: {
            LogFormat: 'JSON',
            ApplicationLogLevel: 'INFO',
            LogGroup: { Ref: Match.stringLikeRegexp(`^Recurrent${capitalized(name)}LogGroup`) },
          },
          Environment: {
            Variables: Match.objectLike({ NODE_OPTIONS: '--enable-source-maps' }),
          },
        });
        expect(functionProps(name).Runtime).toBe('nodejs24.x');
        const logGroup = functionProps(name).LoggingConfig.LogGroup.Ref;
        template.hasResource('AWS::Logs::LogGroup', {
          Properties: { RetentionInDays: 30 },
          DeletionPolicy: 'Delete',
        });
        expect(template.toJSON().Resources[logGroup].Properties.RetentionInDays).toBe(30);
      },
    );

    it('gives the webhook 1024 MB and 4 s, under the 5 s Meta waits for an answer', () => {
      expect(functionProps('webhook')).toMatchObject({ MemorySize: 1024, Timeout: 4 });
    });

    it('gives the fan-out 5 minutes and the sender 30 s with 512 MB each', () => {
      expect(functionProps('fanout')).toMatchObject({ MemorySize: 512, Timeout: 300 });
      expect(functionProps('sender')).toMatchObject({ MemorySize: 512, Timeout: 30 });
    });

    it('gives the admin function 512 MB and 29 s, under the 30 s API Gateway waits', () => {
      expect(functionProps('admin')).toMatchObject({ MemorySize: 512, Timeout: 29 });
    });

    it('configures the admin function as its config schema names it', () => {
      expect(functionProps('admin').Environment.Variables).toEqual({
        TABLE_NAME: ref(recurrent.table),
        SEND_QUEUE_URL: ref(recurrent.sendQueue),
        FANOUT_FUNCTION_NAME: ref(recurrent.fanout),
        META_GRAPH_URL: 'https://graph.facebook.com',
        META_GRAPH_VERSION: 'v24.0',
        LOOKBACK_HOURS: '6',
        SEND_DLQ_URL: ref(recurrent.sendDeadLetterQueue),
        SCHEDULE_DLQ_URL: ref(recurrent.scheduleDeadLetterQueue),
        FANOUT_FAILURE_QUEUE_URL: ref(recurrent.fanoutFailureQueue),
        CONTENT_SECRET_PREFIX: 'recurrent/Test/content-source/',
        NODE_OPTIONS: '--enable-source-maps',
      });
    });

    it('passes the webhook the secret ARN, never the secrets themselves', () => {
      const variables = functionProps('webhook').Environment.Variables;
      expect(variables).toEqual({
        TABLE_NAME: ref(recurrent.table),
        META_SECRET_ARN: ref(recurrent.metaSecret),
        NODE_OPTIONS: '--enable-source-maps',
      });
      expect(JSON.stringify(template.toJSON())).not.toMatch(/META_APP_SECRET|META_VERIFY_TOKEN/);
    });

    it('configures the fan-out and the sender as their config schemas name it', () => {
      expect(functionProps('fanout').Environment.Variables).toEqual({
        TABLE_NAME: ref(recurrent.table),
        SEND_QUEUE_URL: ref(recurrent.sendQueue),
        LOOKBACK_HOURS: '6',
        CONTENT_SECRET_PREFIX: 'recurrent/Test/content-source/',
        NODE_OPTIONS: '--enable-source-maps',
      });
      expect(functionProps('sender').Environment.Variables).toEqual({
        TABLE_NAME: ref(recurrent.table),
        SEND_QUEUE_URL: ref(recurrent.sendQueue),
        META_GRAPH_URL: 'https://graph.facebook.com',
        META_GRAPH_VERSION: 'v24.0',
        STALE_AFTER_HOURS: '6',
        NODE_OPTIONS: '--enable-source-maps',
      });
    });

    it('retries failed fan-out invocations twice, then keeps them on the failure queue', () => {
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: ref(recurrent.fanout),
        Qualifier: '$LATEST',
        MaximumRetryAttempts: 2,
        MaximumEventAgeInSeconds: 3600,
        DestinationConfig: { OnFailure: { Destination: arn(recurrent.fanoutFailureQueue) } },
      });
    });
  });

  describe('table', () => {
    it('is built from the shared table definition, with the due index projecting only its attributes', () => {
      const { dueIndex, pageIndex } = TABLE;
      template.resourceCountIs('AWS::DynamoDB::Table', 1);
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: [
          { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: dueIndex.name,
            KeySchema: [
              { AttributeName: dueIndex.partitionKey, KeyType: 'HASH' },
              { AttributeName: dueIndex.sortKey, KeyType: 'RANGE' },
            ],
            Projection: {
              ProjectionType: 'INCLUDE',
              NonKeyAttributes: [...dueIndex.projectedAttributes],
            },
          },
          {
            IndexName: pageIndex.name,
            KeySchema: [
              { AttributeName: pageIndex.partitionKey, KeyType: 'HASH' },
              { AttributeName: pageIndex.sortKey, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'KEYS_ONLY' },
          },
        ],
        TimeToLiveSpecification: { AttributeName: TABLE.timeToLiveAttribute, Enabled: true },
      });
    });

    it('keeps the due index exactly as deployed: a projection change cannot update in place', () => {
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        GlobalSecondaryIndexes: Match.arrayWith([
          {
            IndexName: 'due',
            KeySchema: [
              { AttributeName: 'duePk', KeyType: 'HASH' },
              { AttributeName: 'dueSk', KeyType: 'RANGE' },
            ],
            Projection: {
              ProjectionType: 'INCLUDE',
              NonKeyAttributes: [
                'psid',
                'lastSlot',
                'lastSentAt',
                'activeSince',
                'tokenExpiresAt',
                'frequency',
              ],
            },
          },
        ]),
      });
    });

    it('is on demand, with point-in-time recovery, deletion protection and AWS-managed encryption', () => {
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        BillingMode: 'PAY_PER_REQUEST',
        ProvisionedThroughput: Match.absent(),
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
        SSESpecification: { SSEEnabled: true, KMSMasterKeyId: Match.absent() },
      });
      template.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 0);
    });

    it('is retained when the stack or the resource goes away', () => {
      template.hasResource('AWS::DynamoDB::Table', {
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    });
  });

  describe('queues', () => {
    it('hides a send job six times as long as the sender may run', () => {
      const queue = template.toJSON().Resources[id(recurrent.sendQueue)].Properties;
      expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * functionProps('sender').Timeout);
    });

    it('sends a job to the DLQ after 20 receives, deferrals included, and keeps it 14 days', () => {
      template.hasResourceProperties('AWS::SQS::Queue', {
        RedrivePolicy: {
          deadLetterTargetArn: arn(recurrent.sendDeadLetterQueue),
          maxReceiveCount: 20,
        },
      });
      for (const queue of [
        recurrent.sendDeadLetterQueue,
        recurrent.scheduleDeadLetterQueue,
        recurrent.fanoutFailureQueue,
      ]) {
        expect(template.toJSON().Resources[id(queue)].Properties).toMatchObject({
          MessageRetentionPeriod: Duration.days(14).toSeconds(),
        });
      }
    });

    it('encrypts every queue with SQS-managed keys and refuses requests without TLS', () => {
      template.resourceCountIs('AWS::SQS::Queue', 4);
      template.allResourcesProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
      template.resourceCountIs('AWS::SQS::QueuePolicy', 4);
      template.allResourcesProperties('AWS::SQS::QueuePolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    });

    it('feeds the sender batches of 10 with partial batch responses and at most 5 at once', () => {
      template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: arn(recurrent.sendQueue),
        FunctionName: ref(recurrent.sender),
        BatchSize: 10,
        ScalingConfig: { MaximumConcurrency: 5 },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    });
  });

  describe('schedules', () => {
    it('creates one schedule per fan-out schedule definition and the reconcile tick, in one group', () => {
      template.resourceCountIs('AWS::Scheduler::ScheduleGroup', 1);
      template.resourceCountIs('AWS::Scheduler::Schedule', FANOUT_SCHEDULES.length + 1);
    });

    it('fires the reconcile tick hourly at the admin function, retried, then to the DLQ', () => {
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: 'cron(0 * * * ? *)',
        ScheduleExpressionTimezone: 'Etc/UTC',
        State: 'ENABLED',
        Target: {
          Arn: arn(recurrent.admin),
          Input: reconcileScheduleInput(),
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 900 },
          DeadLetterConfig: { Arn: arn(recurrent.scheduleDeadLetterQueue) },
          RoleArn: Match.anyValue(),
        },
      });
      expect(RECONCILE_SCHEDULE.expression).toBe('cron(0 * * * ? *)');
    });

    it('gives each schedule target a role that may invoke only its own function', () => {
      const schedules = Object.values(template.findResources('AWS::Scheduler::Schedule'));
      const roleOf = (fn: unknown) => {
        const found = schedules.find(
          (schedule) => JSON.stringify(schedule.Properties.Target.Arn) === JSON.stringify(fn),
        );
        return found?.Properties.Target.RoleArn['Fn::GetAtt'][0];
      };
      const fanoutRole = roleOf(arn(recurrent.fanout));
      const adminRole = roleOf(arn(recurrent.admin));
      expect(fanoutRole).toBeDefined();
      expect(adminRole).toBeDefined();
      expect(adminRole).not.toBe(fanoutRole);
      const invoked = (role: string) =>
        statementsOf(template, role)
          .filter((statement) => actionsOf([statement]).includes('lambda:InvokeFunction'))
          .flatMap((statement) => [statement.Resource].flat())
          .map((resource) => JSON.stringify(resource));
      expect(invoked(adminRole).length).toBeGreaterThan(0);
      for (const resource of invoked(adminRole)) {
        expect(resource).toContain(id(recurrent.admin));
      }
      for (const resource of invoked(fanoutRole)) {
        expect(resource).toContain(id(recurrent.fanout));
      }
    });

    it.each(FANOUT_SCHEDULES.map((schedule) => [schedule.cadence, schedule] as const))(
      'fires the %s fan-out on its UTC expression with its input, retried, then to the DLQ',
      (cadence, schedule) => {
        template.hasResourceProperties('AWS::Scheduler::Schedule', {
          ScheduleExpression: schedule.expression,
          ScheduleExpressionTimezone: 'Etc/UTC',
          State: 'ENABLED',
          FlexibleTimeWindow: { Mode: 'OFF' },
          Target: {
            Arn: arn(recurrent.fanout),
            Input: fanoutScheduleInput(cadence),
            RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 900 },
            DeadLetterConfig: { Arn: arn(recurrent.scheduleDeadLetterQueue) },
            RoleArn: Match.anyValue(),
          },
        });
      },
    );

    it('lets Scheduler invoke the fan-out and write to its DLQ, and nothing else', () => {
      const schedule = Object.values(template.findResources('AWS::Scheduler::Schedule'))[0];
      const role = schedule?.Properties.Target.RoleArn['Fn::GetAtt'][0];
      const statements = statementsOf(template, role);
      expect(actionsOf(statements).sort()).toEqual(['lambda:InvokeFunction', 'sqs:SendMessage']);
      template.hasResourceProperties('AWS::IAM::Role', {
        AssumeRolePolicyDocument: {
          Statement: [
            Match.objectLike({
              Principal: { Service: 'scheduler.amazonaws.com' },
              Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
            }),
          ],
        },
      });
    });
  });

  describe('HTTP API', () => {
    it('routes GET and POST /webhook to the webhook without AWS auth', () => {
      for (const method of ['GET', 'POST']) {
        template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
          RouteKey: `${method} /webhook`,
          AuthorizationType: 'NONE',
        });
      }
      template.resourceCountIs('AWS::ApiGatewayV2::Route', 3);
    });

    it('routes every method under /admin to the admin function, behind IAM authorization', () => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: 'ANY /admin/{proxy+}',
        AuthorizationType: 'AWS_IAM',
        Target: Match.anyValue(),
      });
      const integrations = template.findResources('AWS::ApiGatewayV2::Integration');
      expect(
        Object.values(integrations).some(
          (integration) =>
            JSON.stringify(integration.Properties.IntegrationUri) ===
            JSON.stringify(arn(recurrent.admin)),
        ),
      ).toBe(true);
    });

    it('throttles the default stage and writes JSON access logs to a log group', () => {
      const stage = template.toJSON().Resources[id(recurrent.apiStage)].Properties;
      expect(stage).toMatchObject({
        StageName: '$default',
        AutoDeploy: true,
        DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
        AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': [expect.any(String), 'Arn'] } },
      });
      const format = JSON.parse(stage.AccessLogSettings.Format);
      expect(format).toMatchObject({
        requestId: '$context.requestId',
        status: '$context.status',
        routeKey: '$context.routeKey',
        integrationError: '$context.integrationErrorMessage',
      });
    });
  });

  describe('permissions', () => {
    it('grants no wildcard action and no wildcard resource anywhere', () => {
      const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
        (policy) => policy.Properties.PolicyDocument.Statement,
      );
      expect(statements.length).toBeGreaterThan(0);
      for (const action of actionsOf(statements)) expect(action).not.toContain('*');
      for (const statement of statements) expect(statement.Resource).not.toBe('*');
    });

    it('lets the webhook read and write table items and read the Meta secret, nothing more', () => {
      const statements = roleStatements('webhook');
      expect(actionsOf(statements).sort()).toEqual(
        [
          'dynamodb:BatchGetItem',
          'dynamodb:BatchWriteItem',
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:Query',
          'dynamodb:UpdateItem',
          'logs:CreateLogStream',
          'logs:PutLogEvents',
          'secretsmanager:DescribeSecret',
          'secretsmanager:GetSecretValue',
        ].sort(),
      );
      expect(permissionsOf(statements)).toContainEqual({
        actions: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
        resource: ref(recurrent.metaSecret),
      });
    });

    it('lets the fan-out read the table, query the due index, keep run state, queue jobs and invoke itself', () => {
      const statements = roleStatements('fanout');
      const permissions = permissionsOf(statements);
      expect(permissions).toContainEqual({
        actions: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
        resource: arn(recurrent.table),
      });
      expect(permissions).toContainEqual({
        actions: ['dynamodb:Query'],
        resource: { 'Fn::Join': ['', [arn(recurrent.table), `/index/${TABLE.dueIndex.name}`]] },
      });
      expect(permissions).toContainEqual({
        actions: ['sqs:SendMessage'],
        resource: arn(recurrent.sendQueue),
      });
      expect(permissions).toContainEqual({
        actions: ['lambda:InvokeFunction'],
        resource: arn(recurrent.fanout),
      });
      // Secrets: only the content source ones, to sign requests; never the Meta secret.
      expect(onSecrets(permissions)).toEqual([
        { actions: ['secretsmanager:GetSecretValue'], resource: CONTENT_SECRETS },
      ]);
      expect(actionsOf(statements)).not.toContain('dynamodb:PutItem');
    });

    it('lets the sender read, update and query items, keep MM sends and consume the send queue', () => {
      const statements = roleStatements('sender');
      const permissions = permissionsOf(statements);
      expect(permissions).toContainEqual({
        actions: [
          'dynamodb:BatchGetItem',
          'dynamodb:BatchWriteItem',
          'dynamodb:GetItem',
          'dynamodb:Query',
          'dynamodb:UpdateItem',
        ],
        resource: arn(recurrent.table),
      });
      expect(permissions).toContainEqual({
        actions: [
          'sqs:ChangeMessageVisibility',
          'sqs:DeleteMessage',
          'sqs:GetQueueAttributes',
          'sqs:GetQueueUrl',
          'sqs:ReceiveMessage',
        ],
        resource: arn(recurrent.sendQueue),
      });
      expect(actionsOf(statements)).not.toContain('sqs:SendMessage');
    });

    it('lets the admin function manage items, query both indexes, queue jobs and hand runs to the fan-out', () => {
      const statements = roleStatements('admin');
      const permissions = permissionsOf(statements);
      expect(permissions).toContainEqual({
        actions: [
          'dynamodb:BatchGetItem',
          'dynamodb:BatchWriteItem',
          'dynamodb:DeleteItem',
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:Query',
          'dynamodb:UpdateItem',
        ],
        resource: arn(recurrent.table),
      });
      expect(permissions).toContainEqual({
        actions: ['dynamodb:Query'],
        resource: [TABLE.pageIndex.name, TABLE.dueIndex.name].map((index) => ({
          'Fn::Join': ['', [arn(recurrent.table), `/index/${index}`]],
        })),
      });
      expect(permissions).toContainEqual({
        actions: ['sqs:SendMessage'],
        resource: arn(recurrent.sendQueue),
      });
      expect(permissions).toContainEqual({
        actions: ['lambda:InvokeFunction'],
        resource: arn(recurrent.fanout),
      });
      // Content source secrets: made, replaced and read (its fan-out runs) under the prefix only.
      expect(onSecrets(permissions)).toEqual([
        {
          actions: [
            'secretsmanager:CreateSecret',
            'secretsmanager:GetSecretValue',
            'secretsmanager:PutSecretValue',
          ],
          resource: CONTENT_SECRETS,
        },
      ]);
    });

    it('tells the fan-out and the admin function where content source secrets are', () => {
      for (const name of ['fanout', 'admin'] as const) {
        expect(functionProps(name).Environment.Variables).toMatchObject({
          CONTENT_SECRET_PREFIX: 'recurrent/Test/content-source/',
        });
      }
      expect(functionProps('sender').Environment.Variables.CONTENT_SECRET_PREFIX).toBeUndefined();
    });

    it('lets the admin function count the messages in each dead-letter queue, and only that', () => {
      const queues = [
        recurrent.sendDeadLetterQueue,
        recurrent.scheduleDeadLetterQueue,
        recurrent.fanoutFailureQueue,
      ].map(arn);
      const onQueues = permissionsOf(roleStatements('admin')).filter(
        ({ resource }) =>
          JSON.stringify(resource).includes('Dlq') || JSON.stringify(resource).includes('Failure'),
      );
      expect(onQueues).toEqual([
        { actions: ['sqs:GetQueueAttributes'], resource: expect.arrayContaining(queues) },
      ]);
      expect(onQueues[0]?.resource).toHaveLength(3);
    });

    it('gives no function table-management rights, and only the admin function delete rights', () => {
      for (const name of FUNCTIONS) {
        const actions = actionsOf(roleStatements(name));
        for (const forbidden of [
          'dynamodb:DeleteTable',
          'dynamodb:UpdateTable',
          'dynamodb:Scan',
          'dynamodb:PartiQLDelete',
          ...(name === 'admin' ? [] : ['dynamodb:DeleteItem']),
        ]) {
          expect(actions).not.toContain(forbidden);
        }
      }
    });

    it('gives the roles no AWS-managed policies', () => {
      template.allResourcesProperties('AWS::IAM::Role', { ManagedPolicyArns: Match.absent() });
    });
  });

  describe('Meta secret', () => {
    it('is generated with a verify token and an empty app secret to fill in, and retained', () => {
      template.hasResource('AWS::SecretsManager::Secret', {
        Properties: {
          GenerateSecretString: {
            SecretStringTemplate: JSON.stringify({ appSecret: '' }),
            GenerateStringKey: 'verifyToken',
            ExcludePunctuation: true,
            PasswordLength: 32,
          },
          SecretString: Match.absent(),
          KmsKeyId: Match.absent(),
        },
        DeletionPolicy: 'Retain',
      });
    });
  });

  describe('monitoring', () => {
    const alarmOn = (metricName: string, extra: Record<string, unknown> = {}) =>
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: metricName,
        ...extra,
      });

    it('alarms as soon as any DLQ or the fan-out failure queue holds a message', () => {
      for (const queue of [
        recurrent.sendDeadLetterQueue,
        recurrent.scheduleDeadLetterQueue,
        recurrent.fanoutFailureQueue,
      ]) {
        alarmOn('ApproximateNumberOfMessagesVisible', {
          Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [id(queue), 'QueueName'] } }],
          Statistic: 'Maximum',
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        });
      }
    });

    it('alarms when the oldest send job has waited 2 hours', () => {
      alarmOn('ApproximateAgeOfOldestMessage', {
        Dimensions: [
          { Name: 'QueueName', Value: { 'Fn::GetAtt': [id(recurrent.sendQueue), 'QueueName'] } },
        ],
        Threshold: 7200,
      });
    });

    it.each(FUNCTIONS)('alarms on errors and throttles of the %s function', (name) => {
      for (const metric of ['Errors', 'Throttles']) {
        alarmOn(metric, {
          Namespace: 'AWS/Lambda',
          Dimensions: [{ Name: 'FunctionName', Value: ref(recurrent[name]) }],
          Threshold: 1,
        });
      }
    });

    it('alarms on webhook 4xx and 5xx spikes', () => {
      const api = [{ Name: 'ApiId', Value: ref(recurrent.api) }];
      alarmOn('4xx', { Namespace: 'AWS/ApiGateway', Dimensions: api, Threshold: 50 });
      alarmOn('5xx', { Namespace: 'AWS/ApiGateway', Dimensions: api, Threshold: 5 });
    });

    it.each(['sender', 'webhook'] as const)(
      `counts "${PAGE_PAUSED_LOG_MESSAGE}" lines of the %s and alarms on one`,
      (name) => {
        template.hasResourceProperties('AWS::Logs::MetricFilter', {
          LogGroupName: { Ref: functionProps(name).LoggingConfig.LogGroup.Ref },
          FilterPattern: `{ $.message = "${PAGE_PAUSED_LOG_MESSAGE}" }`,
          MetricTransformations: [
            {
              MetricName: 'PagesPaused',
              MetricNamespace: 'Recurrent/Test',
              MetricValue: '1',
              Unit: 'Count',
            },
          ],
        });
        alarmOn('PagesPaused', { Namespace: 'Recurrent/Test', Threshold: 1 });
      },
    );

    it.each(['sender', 'webhook'] as const)(
      `counts "${TOPIC_PAUSED_LOG_MESSAGE}" lines of the %s and alarms on one`,
      (name) => {
        template.hasResourceProperties('AWS::Logs::MetricFilter', {
          LogGroupName: { Ref: functionProps(name).LoggingConfig.LogGroup.Ref },
          FilterPattern: `{ $.message = "${TOPIC_PAUSED_LOG_MESSAGE}" }`,
          MetricTransformations: [
            {
              MetricName: 'TopicsPaused',
              MetricNamespace: 'Recurrent/Test',
              MetricValue: '1',
              Unit: 'Count',
            },
          ],
        });
        alarmOn('TopicsPaused', { Namespace: 'Recurrent/Test', Threshold: 1 });
      },
    );

    it(`counts "${PAGE_HELD_LOG_MESSAGE}" lines of the sender and alarms on one`, () => {
      template.hasResourceProperties('AWS::Logs::MetricFilter', {
        LogGroupName: { Ref: functionProps('sender').LoggingConfig.LogGroup.Ref },
        FilterPattern: `{ $.message = "${PAGE_HELD_LOG_MESSAGE}" }`,
        MetricTransformations: [
          {
            MetricName: 'PagesHeld',
            MetricNamespace: 'Recurrent/Test',
            MetricValue: '1',
            Unit: 'Count',
          },
        ],
      });
      alarmOn('PagesHeld', { Namespace: 'Recurrent/Test', Threshold: 1 });
    });

    it.each([
      ['webhook', 'optins', 'OptIns'],
      ['webhook', 'stops', 'Stops'],
      ['webhook', 'failed', 'Failed'],
      ['sender', 'sent', 'Sent'],
      ['sender', 'deferred', 'Deferred'],
      ['sender', 'failed', 'Failed'],
    ] as const)(
      'counts the %s log field %s of "stats counted" lines as %s',
      (name, field, metric) => {
        template.hasResourceProperties('AWS::Logs::MetricFilter', {
          LogGroupName: { Ref: functionProps(name).LoggingConfig.LogGroup.Ref },
          FilterPattern: `{ ($.message = "${STATS_LOG_MESSAGE}") && ($.${field} > 0) }`,
          MetricTransformations: [
            {
              MetricName: metric,
              MetricNamespace: 'Recurrent/Test',
              MetricValue: `$.${field}`,
              Unit: 'Count',
            },
          ],
        });
      },
    );

    it('counts content source failures in the fan-out and admin logs, and alarms on the first', () => {
      for (const name of ['fanout', 'admin'] as const) {
        template.hasResourceProperties('AWS::Logs::MetricFilter', {
          LogGroupName: { Ref: functionProps(name).LoggingConfig.LogGroup.Ref },
          FilterPattern: `{ $.message = "${CONTENT_SOURCE_FAILED_LOG_MESSAGE}" }`,
          MetricTransformations: [
            {
              MetricName: 'ContentSourceFailures',
              MetricNamespace: 'Recurrent/Test',
              MetricValue: '1',
              Unit: 'Count',
            },
          ],
        });
      }
      alarmOn('ContentSourceFailures', { Namespace: 'Recurrent/Test', Threshold: 1 });
    });

    it('has 18 alarms, none with an action when no topic is given, and one dashboard', () => {
      template.resourceCountIs('AWS::CloudWatch::Alarm', 18);
      template.allResourcesProperties('AWS::CloudWatch::Alarm', { AlarmActions: Match.absent() });
      template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
      template.resourceCountIs('AWS::SNS::Topic', 0);
    });
  });

  it('outputs what an operator needs', () => {
    for (const output of [
      'WebhookUrl',
      'AdminBaseUrl',
      'TableName',
      'SendQueueName',
      'SendDlqName',
      'ScheduleDlqName',
      'FanoutFailureQueueName',
      'MetaSecretArn',
      'DashboardName',
    ]) {
      template.hasOutput(output, { Value: Match.anyValue() });
    }
    template.hasOutput('WebhookUrl', {
      Value: {
        'Fn::Join': [
          '',
          [
            'https://',
            ref(recurrent.api),
            '.execute-api.',
            { Ref: 'AWS::Region' },
            '.',
            { Ref: 'AWS::URLSuffix' },
            '/webhook',
          ],
        ],
      },
    });
    template.hasOutput('AdminBaseUrl', {
      Value: {
        'Fn::Join': [
          '',
          [
            'https://',
            ref(recurrent.api),
            '.execute-api.',
            { Ref: 'AWS::Region' },
            '.',
            { Ref: 'AWS::URLSuffix' },
            '/admin/',
          ],
        ],
      },
    });
  });
});

describe('RecurringNotifications with its options', () => {
  let stack: Stack;
  let template: Template;
  let recurrent: RecurringNotifications;

  beforeAll(() => {
    ({ stack, template } = synthesize({
      alarmEmail: 'ops@example.com',
      encryptionKeyArn: KEY_ARN,
      recurrent: {
        senderMaxConcurrency: 12,
        sendMaxReceiveCount: 30,
        apiThrottle: { rateLimit: 20, burstLimit: 40 },
        lookbackHours: 3,
        staleAfterHours: 2,
        metaGraphVersion: 'v25.0',
        sendQueueAgeAlarm: Duration.minutes(30),
        tableCapacity: { maxReadCapacity: 50, maxWriteCapacity: 40 },
      },
    }));
    ({ recurrent } = stack as Stack & { recurrent: RecurringNotifications });
  });

  it('provisions the table and its indexes with auto scaling on utilization', () => {
    const indexCapacity = Match.objectLike({
      ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 },
    });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: Match.absent(),
      ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 },
      GlobalSecondaryIndexes: [indexCapacity, indexCapacity],
    });
    template.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 6);
    for (const [dimension, max] of [
      ['dynamodb:table:ReadCapacityUnits', 50],
      ['dynamodb:table:WriteCapacityUnits', 40],
      ['dynamodb:index:ReadCapacityUnits', 50],
      ['dynamodb:index:WriteCapacityUnits', 40],
    ] as const) {
      template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
        ScalableDimension: dimension,
        MinCapacity: 5,
        MaxCapacity: max,
      });
    }
    template.resourceCountIs('AWS::ApplicationAutoScaling::ScalingPolicy', 6);
    template.allResourcesProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({ TargetValue: 70 }),
    });
  });

  it('encrypts the table and the Meta secret with the customer-managed key', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: KEY_ARN },
    });
    template.hasResourceProperties('AWS::SecretsManager::Secret', { KmsKeyId: KEY_ARN });
  });

  it('lets each function use the key through DynamoDB only, and the webhook decrypt the secret', () => {
    for (const name of FUNCTIONS) {
      const role = recurrent[name].role;
      if (!role) throw new Error(`${name} has no role`);
      const statements = statementsOf(template, logicalId(stack, role));
      expect(statements).toContainEqual({
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
        Resource: KEY_ARN,
        Condition: {
          StringEquals: {
            'kms:ViaService': {
              'Fn::Join': ['', ['dynamodb.', { Ref: 'AWS::Region' }, '.amazonaws.com']],
            },
          },
        },
      });
      const secretKeyUse = statements.some(
        (statement) =>
          JSON.stringify(statement.Action) === JSON.stringify('kms:Decrypt') &&
          JSON.stringify(statement).includes('secretsmanager.'),
      );
      // The webhook's Meta secret, and the content source secrets the fan-out signs with.
      expect(secretKeyUse).toBe(name === 'webhook' || name === 'fanout');
    }
  });

  it('lets the admin function encrypt content source secrets with the key through Secrets Manager', () => {
    const role = recurrent.admin.role;
    if (!role) throw new Error('admin has no role');
    expect(statementsOf(template, logicalId(stack, role))).toContainEqual(
      expect.objectContaining({
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: KEY_ARN,
        Condition: {
          StringEquals: {
            'kms:ViaService': {
              'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']],
            },
          },
        },
      }),
    );
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ CONTENT_SECRET_KMS_KEY_ID: KEY_ARN }) },
    });
  });

  it('applies the queue, concurrency, throttle and config options', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ScalingConfig: { MaximumConcurrency: 12 },
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 30 }),
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ LOOKBACK_HOURS: '3' }) },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ STALE_AFTER_HOURS: '2', META_GRAPH_VERSION: 'v25.0' }),
      },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Threshold: 1800,
    });
  });

  it('sends every alarm to the topic the alarm email is subscribed to', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
    template.hasResourceProperties('AWS::SNS::Topic', {});
    const topic = Object.keys(template.findResources('AWS::SNS::Topic'))[0];
    template.allResourcesProperties('AWS::CloudWatch::Alarm', { AlarmActions: [{ Ref: topic }] });
  });
});

describe('RecurringNotifications with an existing Meta secret', () => {
  it('grants the webhook that secret and creates none', () => {
    const { template } = synthesize({ metaSecretArn: META_SECRET_ARN });
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ META_SECRET_ARN }) },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
            Resource: META_SECRET_ARN,
          }),
        ]),
      },
    });
    template.hasOutput('MetaSecretArn', { Value: META_SECRET_ARN });
  });
});

function capitalized(name: string): string {
  return `${name.charAt(0).toUpperCase()}${name.slice(1)}`;
}
