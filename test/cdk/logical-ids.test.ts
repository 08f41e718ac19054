import type { Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RecurringNotifications } from '../../cdk/recurring-notifications.ts';
import { logicalId, synthesize } from './synth.ts';

// A changed logical id makes CloudFormation replace the resource: a second, empty table (the
// first is retained), new queues losing their jobs, a new secret without Meta's app secret.
// These are the ids deployed stacks have; they must never change.
const STATEFUL = {
  table: ['RecurrentTableD2FBC448', 'AWS::DynamoDB::Table'],
  metaSecret: ['RecurrentMetaSecret7ED31F9F', 'AWS::SecretsManager::Secret'],
  sendQueue: ['RecurrentSendQueue73F9E31E', 'AWS::SQS::Queue'],
  sendDeadLetterQueue: ['RecurrentSendDlqF0EBD7E8', 'AWS::SQS::Queue'],
  scheduleDeadLetterQueue: ['RecurrentScheduleDlqE49B97E5', 'AWS::SQS::Queue'],
  fanoutFailureQueue: ['RecurrentFanoutFailureQueue579817BF', 'AWS::SQS::Queue'],
} as const;

describe('the logical ids of the stateful resources', () => {
  let stack: Stack;
  let template: Template;
  let recurrent: RecurringNotifications;

  beforeAll(() => {
    ({ stack, template } = synthesize());
    ({ recurrent } = stack as Stack & { recurrent: RecurringNotifications });
  });

  it.each(Object.entries(STATEFUL))('keeps %s as %s', (property, [id, type]) => {
    const construct = recurrent[property as keyof typeof STATEFUL];

    expect(logicalId(stack, construct)).toBe(id);
    expect(template.toJSON().Resources[id]?.Type).toBe(type);
  });

  it('has no other table, queue or secret', () => {
    const stateful = Object.entries(template.toJSON().Resources as Record<string, { Type: string }>)
      .filter(([, resource]) =>
        ['AWS::DynamoDB::Table', 'AWS::SQS::Queue', 'AWS::SecretsManager::Secret'].includes(
          resource.Type,
        ),
      )
      .map(([id]) => id)
      .sort();

    expect(stateful).toEqual(
      Object.values(STATEFUL)
        .map(([id]) => id)
        .sort(),
    );
  });
});
