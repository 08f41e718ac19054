import { Annotations as ConstructAnnotations, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import {
  NO_ALARM_TARGET_WARNING,
  RecurringNotifications,
} from '../../cdk/recurring-notifications.ts';
import { synthesize } from './synth.ts';

const noAlarmTarget = Match.stringLikeRegexp(`\\[ack: ${NO_ALARM_TARGET_WARNING}\\]`);

describe('the warning that no alarm notifies anyone', () => {
  it('is given when the stack has no alarm email, with the context key to set', () => {
    const { stack } = synthesize();
    const warnings = Annotations.fromStack(stack).findWarning('*', noAlarmTarget);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.entry.data).toContain('-c alarmEmail=');
    expect(warnings[0]?.entry.data).toContain('the 15 alarms notify nobody');
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
