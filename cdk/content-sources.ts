import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { RecurrentFunction } from './function.ts';

export interface ContentSourcesProps {
  /** Reads a topic's secret to sign the requests to its source. */
  readonly fanout: RecurrentFunction;
  /** Makes and replaces topics' secrets; its operator-started fan-out runs read them too. */
  readonly admin: RecurrentFunction;
  /** Its customer-managed key, if any, encrypts the secrets too (else aws/secretsmanager). */
  readonly table: dynamodb.ITable;
}

/**
 * Topics' content source secrets: one Secrets Manager secret per topic, made at run time by the
 * admin API under `recurrent/<stack>/content-source/`, so a topic's secret is replaced alone,
 * needs no read-modify-write of a shared map, and every grant names only that prefix. The
 * secrets are not CloudFormation resources: they outlive the stack, like the table.
 */
export class ContentSources extends Construct {
  /** What every content source secret's name begins with. */
  readonly secretPrefix: string;

  constructor(scope: Construct, id: string, props: ContentSourcesProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.secretPrefix = `recurrent/${stack.stackName}/content-source/`;
    // Secrets Manager adds 6 random characters to a secret's name in its ARN.
    const secrets = stack.formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${this.secretPrefix}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const { fanout, admin } = props;
    const { encryptionKey } = props.table;
    for (const fn of [fanout, admin]) {
      fn.addEnvironment('CONTENT_SECRET_PREFIX', this.secretPrefix);
      if (encryptionKey) fn.addEnvironment('CONTENT_SECRET_KMS_KEY_ID', encryptionKey.keyArn);
      if (fn.role) {
        Validations.of(fn.role).acknowledge({
          id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${this.secretPrefix}*]`,
          reason:
            "Topics' content source secrets are made at run time, one per topic: the grant names their prefix, never another secret.",
        });
      }
    }
    fanout.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [secrets] }),
    );
    admin.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [
          'secretsmanager:CreateSecret',
          'secretsmanager:PutSecretValue',
          'secretsmanager:GetSecretValue',
        ],
        resources: [secrets],
      }),
    );
    if (!encryptionKey) return;
    const viaSecretsManager = {
      StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.amazonaws.com` },
    };
    fanout.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [encryptionKey.keyArn],
        conditions: viaSecretsManager,
      }),
    );
    admin.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [encryptionKey.keyArn],
        conditions: viaSecretsManager,
      }),
    );
  }
}
