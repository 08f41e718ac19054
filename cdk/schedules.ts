import { CfnResource, Duration, RemovalPolicy, Stack, TimeZone, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { FANOUT_SCHEDULES, fanoutScheduleInput } from '#lib/schedules.ts';
import type { RecurrentFunction } from './function.ts';

/** One EventBridge Scheduler schedule per fan-out schedule definition, in one group. */
export function scheduleFanouts(
  scope: Construct,
  fanout: RecurrentFunction,
  deadLetterQueue: sqs.IQueue,
): scheduler.Schedule[] {
  const group = new scheduler.ScheduleGroup(scope, 'Schedules', {
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const stack = Stack.of(scope);
  const role = new iam.Role(scope, 'SchedulerRole', {
    description: 'EventBridge Scheduler: invokes the fan-out, writes to its DLQ',
    assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
    }),
  });
  // LambdaInvoke grants `<fn>` and `<fn>:*`; only the unqualified function is invoked.
  const fanoutResource = fanout.node.defaultChild;
  if (!CfnResource.isCfnResource(fanoutResource)) throw new Error('fan-out has no resource');
  const fanoutLogicalId = stack.resolve(fanoutResource.logicalId);
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${fanoutLogicalId}.Arn>:*]`,
    reason:
      'The Scheduler target grant adds the version wildcard of the fan-out function; schedules invoke the unqualified function only.',
  });
  return FANOUT_SCHEDULES.map(
    (definition) =>
      new scheduler.Schedule(scope, definition.id, {
        scheduleGroup: group,
        description: `Recurrent fan-out of ${definition.cadence} topics`,
        schedule: scheduler.ScheduleExpression.expression(definition.expression, TimeZone.ETC_UTC),
        target: new LambdaInvoke(fanout, {
          role,
          input: scheduler.ScheduleTargetInput.fromText(fanoutScheduleInput(definition.cadence)),
          // A run missed for longer is caught up by the next one (lookback).
          retryAttempts: 2,
          maxEventAge: Duration.minutes(15),
          deadLetterQueue,
        }),
      }),
  );
}
