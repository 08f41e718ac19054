import { CfnOutput, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import {
  RecurringNotifications,
  type RecurringNotificationsProps,
} from './recurring-notifications.ts';

export interface RecurrentStackProps extends StackProps {
  /** Passed to the construct as is. */
  readonly recurrent?: Omit<
    RecurringNotificationsProps,
    'alarmTopic' | 'metaSecret' | 'encryptionKey'
  >;
  /** Subscribes this address to a new alarm topic. @default no topic */
  readonly alarmEmail?: string;
  /**
   * The complete ARN of an existing Meta secret (`{"appSecret", "verifyToken"}`).
   * @default a new secret (see `RecurringNotificationsProps.metaSecret`)
   */
  readonly metaSecretArn?: string;
  /**
   * The ARN of an existing customer-managed KMS key for the table and the Meta secret.
   * @default AWS-managed keys
   */
  readonly encryptionKeyArn?: string;
}

/** The output that lists an operator's steps after the first deploy; printed last. */
export const NEXT_STEPS_OUTPUT = 'WhatToDoNext';

/** One deployment of Recurrent, with the outputs an operator needs. */
export class RecurrentStack extends Stack {
  readonly recurrent: RecurringNotifications;

  constructor(scope: Construct, id: string, props: RecurrentStackProps = {}) {
    super(scope, id, props);
    const alarmTopic = props.alarmEmail ? this.createAlarmTopic(props.alarmEmail) : undefined;
    this.recurrent = new RecurringNotifications(this, 'Recurrent', {
      ...props.recurrent,
      ...(alarmTopic && { alarmTopic }),
      ...(props.encryptionKeyArn && {
        encryptionKey: kms.Key.fromKeyArn(this, 'EncryptionKey', props.encryptionKeyArn),
      }),
      ...(props.metaSecretArn && {
        metaSecret: secretsmanager.Secret.fromSecretCompleteArn(
          this,
          'MetaSecret',
          props.metaSecretArn,
        ),
      }),
    });
    const { recurrent } = this;
    const adminUrl = `${recurrent.apiStage.url}admin/`;
    new CfnOutput(this, 'WebhookUrl', {
      value: recurrent.webhookUrl,
      description: "Callback URL for Meta's webhook settings",
    });
    new CfnOutput(this, 'AdminBaseUrl', {
      value: adminUrl,
      description: 'The admin API (IAM auth): recurrent --url <this> ... signs its requests',
    });
    new CfnOutput(this, 'TableName', { value: recurrent.table.tableName });
    new CfnOutput(this, 'SendQueueName', { value: recurrent.sendQueue.queueName });
    new CfnOutput(this, 'SendDlqName', { value: recurrent.sendDeadLetterQueue.queueName });
    new CfnOutput(this, 'ScheduleDlqName', {
      value: recurrent.scheduleDeadLetterQueue.queueName,
    });
    new CfnOutput(this, 'FanoutFailureQueueName', {
      value: recurrent.fanoutFailureQueue.queueName,
    });
    new CfnOutput(this, 'MetaSecretArn', {
      value: recurrent.metaSecret.secretArn,
      description: 'Put the Meta app secret in its appSecret key; verifyToken is for Meta',
    });
    new CfnOutput(this, 'DashboardName', {
      value: recurrent.monitoring.dashboard.dashboardName,
    });
    // The CDK CLI prints outputs sorted by name: this name sorts after every other one.
    new CfnOutput(this, NEXT_STEPS_OUTPUT, {
      description: 'What to do after the first deploy, in order (README, Deploy)',
      value: [
        `1. Put the Meta app secret into the appSecret key of the secret ${recurrent.metaSecret.secretArn} (the webhook refuses to start until then).`,
        `2. In Meta's app dashboard, set the callback URL to ${recurrent.webhookUrl} and the verify token to that secret's verifyToken.`,
        '3. Subscribe each Page to the messages and messaging_optins webhook fields (and marketing_message_* on the Marketing Message API).',
        `4. Register each Page and its topics: npx recurrent --url ${adminUrl} pages put <pageId> --access-token - < token.txt, then topics put --file <topic>.json.`,
        `5. Check the setup: npx recurrent --url ${adminUrl} doctor.`,
      ].join(' '),
    });
  }

  private createAlarmTopic(email: string): sns.Topic {
    const topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'Recurrent alarms',
      enforceSSL: true,
    });
    topic.addSubscription(new subscriptions.EmailSubscription(email));
    Validations.of(topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'Alarm notifications carry alarm names and states only; CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS key, and a customer key for this alone is not worth its cost.',
    });
    return topic;
  }
}
