import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { TABLE } from '#lib/aws/table-definition.ts';
import type { RecurrentFunction } from './function.ts';

/*
 * The stateful resources (the table, the Meta secret, the queues) and who may touch the table
 * and the secret's key. Each is created directly in the given scope, the RecurringNotifications
 * construct, so its construct path and logical id stay those deployed stacks have.
 */

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

/** DynamoDB actions, as the adapters in lib/aws use them. */
export type TableAction =
  | 'GetItem'
  | 'BatchGetItem'
  | 'Query'
  | 'PutItem'
  | 'UpdateItem'
  | 'BatchWriteItem'
  | 'DeleteItem'
  | 'ConditionCheckItem';

/** The one table, built from the definition the local runtime shares. */
export function createTable(
  scope: Construct,
  capacity: ProvisionedCapacity | undefined,
  encryptionKey: kms.IKey | undefined,
): dynamodb.Table {
  const string = (name: string) => ({ name, type: dynamodb.AttributeType.STRING });
  const { dueIndex, pageIndex } = TABLE;
  const initial = capacity && {
    readCapacity: capacity.minReadCapacity ?? 5,
    writeCapacity: capacity.minWriteCapacity ?? 5,
  };
  const table = new dynamodb.Table(scope, 'Table', {
    partitionKey: string(TABLE.partitionKey),
    sortKey: string(TABLE.sortKey),
    billingMode: capacity ? dynamodb.BillingMode.PROVISIONED : dynamodb.BillingMode.PAY_PER_REQUEST,
    ...initial,
    ...(encryptionKey
      ? {
          encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
          encryptionKey,
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
      table.autoScaleGlobalSecondaryIndexReadCapacity(index, read).scaleOnUtilization(utilization);
      table
        .autoScaleGlobalSecondaryIndexWriteCapacity(index, write)
        .scaleOnUtilization(utilization);
    }
  }
  return table;
}

/** A secret with a generated verify token; the operator fills in Meta's app secret. */
export function createMetaSecret(
  scope: Construct,
  encryptionKey: kms.IKey | undefined,
): secretsmanager.Secret {
  const secret = new secretsmanager.Secret(scope, 'MetaSecret', {
    description:
      'Recurrent: Meta app secret (fill in appSecret) and the webhook verify token (generated)',
    ...(encryptionKey && { encryptionKey }),
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

/** A send or dead-letter queue: SQS-encrypted, TLS only, dropped with the stack. */
export function createQueue(scope: Construct, id: string, props: sqs.QueueProps): sqs.Queue {
  return new sqs.Queue(scope, id, {
    ...props,
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    // Jobs are derived from the table, which is kept: the next run queues them again.
    removalPolicy: RemovalPolicy.DESTROY,
  });
}

/** Explicit DynamoDB actions on the table itself (not its indexes), plus its key if any. */
export function grantTableActions(
  fn: RecurrentFunction,
  table: dynamodb.ITable,
  actions: readonly TableAction[],
  encryptionKey: kms.IKey | undefined,
): void {
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: actions.map((action) => `dynamodb:${action}`),
      resources: [table.tableArn],
    }),
  );
  grantTableKey(fn, encryptionKey);
}

/** Query on the named indexes only. */
export function grantIndexQuery(
  fn: RecurrentFunction,
  table: dynamodb.ITable,
  indexNames: readonly string[],
): void {
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['dynamodb:Query'],
      resources: indexNames.map((name) => `${table.tableArn}/index/${name}`),
    }),
  );
}

/** The table's customer-managed key, through DynamoDB only; nothing without one. */
function grantTableKey(fn: RecurrentFunction, encryptionKey: kms.IKey | undefined): void {
  if (!encryptionKey) return;
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
      resources: [encryptionKey.keyArn],
      conditions: {
        StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(fn).region}.amazonaws.com` },
      },
    }),
  );
}

/** Decrypting the Meta secret this construct encrypted with the customer-managed key. */
export function grantSecretKey(fn: RecurrentFunction, encryptionKey: kms.IKey | undefined): void {
  if (!encryptionKey) return;
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['kms:Decrypt'],
      resources: [encryptionKey.keyArn],
      conditions: {
        StringEquals: {
          'kms:ViaService': `secretsmanager.${Stack.of(fn).region}.amazonaws.com`,
        },
      },
    }),
  );
}
