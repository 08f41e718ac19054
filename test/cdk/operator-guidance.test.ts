import { Annotations as ConstructAnnotations, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { NEXT_STEPS_OUTPUT } from '../../cdk/recurrent-stack.ts';
import {
  NO_ALARM_TARGET_WARNING,
  RecurringNotifications,
} from '../../cdk/recurring-notifications.ts';
import { synthesize } from './synth.ts';

const noAlarmTarget = Match.stringLikeRegexp(`\\[ack: ${NO_ALARM_TARGET_WARNING}\\]`);

describe('the warning that no alarm notifies anyone', () => {
  it('is given when the stack has no alarm email, with the context key to set', () => {
    const { stack, template } = synthesize();
    const alarms = Object.keys(template.findResources('AWS::CloudWatch::Alarm')).length;
    expect(alarms).toBeGreaterThan(0);
    const warnings = Annotations.fromStack(stack).findWarning('*', noAlarmTarget);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.entry.data).toContain('-c alarmEmail=');
    expect(warnings[0]?.entry.data).toContain(`the ${alarms} alarms notify nobody`);
    expect(warnings[0]?.entry.data).toContain('alarmTopic');
  });

  it('is not given when the stack has an alarm email', () => {
    const { stack } = synthesize({ alarmEmail: 'ops@example.com' });
    Annotations.fromStack(stack).hasNoWarning('*', noAlarmTarget);
  });

  it('is not given when the construct has an alarm topic', () => {
    const stack = new Stack();
    new RecurringNotifications(stack, 'Recurrent', {
      bundle: false,
      alarmTopic: new sns.Topic(stack, 'Alarms'),
    });
    Annotations.fromStack(stack).hasNoWarning('*', noAlarmTarget);
  });

  it('can be acknowledged by a deployment that wants no target', () => {
    const { stack } = synthesize();
    Annotations.fromStack(stack).hasWarning('*', noAlarmTarget);
    ConstructAnnotations.of(stack).acknowledgeWarning(
      NO_ALARM_TARGET_WARNING,
      'alarms watched on the dashboard',
    );
    Annotations.fromStack(stack).hasNoWarning('*', noAlarmTarget);
  });
});

describe('the next steps output', () => {
  const { template } = synthesize();
  const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
  const text = JSON.stringify(outputs[NEXT_STEPS_OUTPUT]?.Value);

  it('is the last output the CDK CLI prints, which sorts them by name', () => {
    expect(Object.keys(outputs).sort().at(-1)).toBe(NEXT_STEPS_OUTPUT);
  });

  it('lists, in order, the secret, Meta dashboard, Page fields, registration and doctor steps', () => {
    const steps = [
      '1. Put the Meta app secret into the appSecret key of the secret',
      "2. In Meta's app dashboard, set the callback URL to",
      '3. Subscribe each Page to the messages and messaging_optins webhook fields',
      '4. Register each Page and its topics: npx recurrent --url',
      '5. Check the setup: npx recurrent --url',
    ];
    const positions = steps.map((step) => text.indexOf(step));
    expect(
      positions.every((position) => position >= 0),
      text,
    ).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(text).toContain('doctor');
  });

  it("names the stack's own secret, webhook URL and admin URL", () => {
    const secret = Object.keys(template.findResources('AWS::SecretsManager::Secret'))[0];
    expect(text).toContain(JSON.stringify({ Ref: secret }));
    expect(text).toContain('/webhook and the verify token');
    expect(text.match(/\/admin\//g)).toHaveLength(2);
  });
});
