import { CfnResource, Duration, RemovalPolicy, Stack, TimeZone, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import {
  FANOUT_SCHEDULES,
  fanoutScheduleInput,
  RECONCILE_SCHEDULE,
  reconcileScheduleInput,
} from '#lib/schedules.ts';
import type { RecurrentFunction } from './function.ts';

/**
 * Every schedule, in one group: one per fan-out schedule definition (the fan-out function), and
 * the reconcile's hourly tick (the admin function, which already holds what the reconcile
 * needs). Each target has a role of its own that may invoke only that function.
 */
export function scheduleRuns(
  scope: Construct,
  targets: { fanout: RecurrentFunction; admin: RecurrentFunction },
  deadLetterQueue: sqs.IQueue,
): scheduler.Schedule[] {
  const group = new scheduler.ScheduleGroup(scope, 'Schedules', {
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const target = (fn: RecurrentFunction, role: iam.IRole, input: string) =>
    new LambdaInvoke(fn, {
      role,
      input: scheduler.ScheduleTargetInput.fromText(input),
      // A fan-out missed for longer is caught up by the next one (lookback); a missed
      // reconcile tick by the next hour's.
      retryAttempts: 2,
      maxEventAge: Duration.minutes(15),
      deadLetterQueue,
    });
  const fanoutRole = schedulerRole(scope, 'SchedulerRole', 'invokes the fan-out', targets.fanout);
  const fanouts = FANOUT_SCHEDULES.map(
    (definition) =>
      new scheduler.Schedule(scope, definition.id, {
        scheduleGroup: group,
        description: `Recurrent fan-out of ${definition.cadence} topics`,
        schedule: scheduler.ScheduleExpression.expression(definition.expression, TimeZone.ETC_UTC),
        target: target(targets.fanout, fanoutRole, fanoutScheduleInput(definition.cadence)),
      }),
  );
  const reconcileRole = schedulerRole(
    scope,
    'ReconcileSchedulerRole',
    'invokes the admin function for the reconcile',
    targets.admin,
  );
  const reconcile = new scheduler.Schedule(scope, RECONCILE_SCHEDULE.id, {
    scheduleGroup: group,
    description: 'Recurrent reconcile: token lists due, erasures Meta has not confirmed',
    schedule: scheduler.ScheduleExpression.expression(
      RECONCILE_SCHEDULE.expression,
      TimeZone.ETC_UTC,
    ),
    target: target(targets.admin, reconcileRole, reconcileScheduleInput()),
  });
  return [...fanouts, reconcile];
}

/** A role only EventBridge Scheduler of this account may assume, to invoke one function. */
function schedulerRole(
  scope: Construct,
  id: string,
  what: string,
  fn: RecurrentFunction,
): iam.Role {
  const stack = Stack.of(scope);
  const role = new iam.Role(scope, id, {
    description: `EventBridge Scheduler: ${what}, writes to its DLQ`,
    assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
    }),
  });
  // LambdaInvoke grants `<fn>` and `<fn>:*`; only the unqualified function is invoked.
  const resource = fn.node.defaultChild;
  if (!CfnResource.isCfnResource(resource)) throw new Error(`${fn.node.id} has no resource`);
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${stack.resolve(resource.logicalId)}.Arn>:*]`,
    reason:
      'The Scheduler target grant adds the version wildcard of the function; schedules invoke the unqualified function only.',
  });
  return role;
}
