import {
  BYTES_PER_GB,
  formatUsd,
  type LambdaUsage,
  lambdaGbSeconds,
  MILLION,
  MINUTES_PER_MONTH,
  PRICES,
  type Prices,
  sum,
} from './cost-model.ts';

/** What a deployment costs a month whatever it sends. Pure: no I/O. */

/** Scheduler invocations a month for the given schedules (3 every 15 minutes: 8,640). */
export function scheduledRunsPerMonth(schedules = 3, everyMinutes = 15): number {
  return schedules * (MINUTES_PER_MONTH / everyMinutes);
}

/** Inputs of the charges that exist with zero sends. */
export interface FixedParams {
  /** Fan-out schedules, one per cadence. Default 3. */
  schedules?: number;
  /** Minutes between two runs of a schedule. Default 15. */
  scheduleEveryMinutes?: number;
  /** Handler time of a fan-out invocation that finds nothing due, ms (measured). */
  idleFanoutDurationMs: number;
  /** Default 512, the fan-out's memory in the CDK stack. */
  fanoutMemoryMb?: number;
  /** Log bytes of one idle fan-out invocation, Lambda's START/END/REPORT lines included. */
  idleFanoutLogBytes: number;
  /** Pollers the SQS event source mapping keeps long polling an empty queue. Default 5. */
  sqsPollers?: number;
  /** ReceiveMessage wait time of those pollers, seconds. Default 20 (the maximum). */
  longPollSeconds?: number;
  /** Secrets Manager secrets. Default 1 (the Meta app secret and verify token). */
  secrets?: number;
  /** Cold starts a month of functions that read the secret: one GetSecretValue each. */
  coldStartsPerMonth: number;
  /** Standard-resolution CloudWatch alarms. */
  alarms: number;
  /** Default 1. */
  dashboards?: number;
  /** Custom CloudWatch metrics (each name and dimension set counts once). */
  customMetrics: number;
}

/**
 * Monthly (30-day) charges per deployment that do not grow with sends, itemised, in US$.
 * Table storage is left out: it grows with subscriptions, not with sends, and is not idle cost.
 */
export function fixedMonthlyCost(
  params: FixedParams,
  prices: Prices = PRICES,
): { items: Record<string, number>; total: number } {
  const fanoutMemoryMb = params.fanoutMemoryMb ?? 512;
  const pollers = params.sqsPollers ?? 5;
  const longPollSeconds = params.longPollSeconds ?? 20;
  const secrets = params.secrets ?? 1;
  const dashboards = params.dashboards ?? 1;

  const fanoutRuns = scheduledRunsPerMonth(params.schedules, params.scheduleEveryMinutes);
  const idleFanout: LambdaUsage = {
    name: 'fanout',
    invocations: fanoutRuns,
    durationMs: fanoutRuns * params.idleFanoutDurationMs,
    memoryMb: fanoutMemoryMb,
  };
  // Each poller holds one ReceiveMessage open for the whole wait time, then asks again.
  const emptyReceives = pollers * (60 / longPollSeconds) * MINUTES_PER_MONTH;
  const { cloudWatch, secretsManager } = prices;
  const items: Record<string, number> = {
    'EventBridge Scheduler': (fanoutRuns * prices.scheduler.perMillionInvocations) / MILLION,
    'Lambda fan-out requests': (fanoutRuns * prices.lambda.perMillionRequests) / MILLION,
    'Lambda fan-out compute': lambdaGbSeconds(idleFanout) * prices.lambda.perGbSecond,
    'CloudWatch Logs (fan-out)':
      ((fanoutRuns * params.idleFanoutLogBytes) / BYTES_PER_GB) * cloudWatch.logsPerGbIngested,
    'SQS empty receives': (emptyReceives * prices.sqs.perMillionRequests) / MILLION,
    'Secrets Manager secrets': secrets * secretsManager.perSecretMonth,
    'Secrets Manager API calls':
      (params.coldStartsPerMonth / 10_000) * secretsManager.perTenThousandCalls,
    'CloudWatch alarms': params.alarms * cloudWatch.perAlarmMonth,
    'CloudWatch dashboards': dashboards * cloudWatch.perDashboardMonth,
    'CloudWatch custom metrics': params.customMetrics * cloudWatch.perCustomMetricMonth,
  };
  return { items, total: sum(Object.values(items)) };
}

/** Rows for printTable from fixedMonthlyCost: one per item, then the total. */
export function fixedCostRows(fixed: {
  items: Record<string, number>;
  total: number;
}): Record<string, string>[] {
  return [
    ...Object.entries(fixed.items).map(([item, cost]) => ({
      item,
      'US$ a month': formatUsd(cost),
    })),
    { item: 'total', 'US$ a month': formatUsd(fixed.total) },
  ];
}
