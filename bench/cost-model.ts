/**
 * Turns usage into US dollars per million sends, for `npm run bench`. Pure: no I/O.
 *
 * Everything is priced at us-east-1 list prices WITHOUT any free tier: the free tiers
 * (Lambda's 1 M requests and 400,000 GB-s, SQS's 1 M requests, Scheduler's 14 M invocations,
 * CloudWatch's 10 alarms, 3 dashboards, 10 metrics and 5 GB of logs a month) are per account
 * and shared with whatever else the account runs, so they say nothing about this design.
 */

/** Prices are per million requests. */
export const MILLION = 1_000_000;
const SECONDS_PER_HOUR = 3_600;
/** A month is 30 days here, for fixed charges. */
export const MINUTES_PER_MONTH = 30 * 24 * 60;
/** AWS bills a GB of data as 2^30 bytes. */
export const BYTES_PER_GB = 1024 ** 3;
/** Lambda's GB-second counts memory in GB of 1,024 MB (128 MB is 0.125 GB). */
const MB_PER_GB = 1_024;

/** One Lambda function's share of the usage. */
export interface LambdaUsage {
  name: string;
  invocations: number;
  /** summed handler time */
  durationMs: number;
  memoryMb: number;
}

/** What the pipeline used for `sends` sends (measured by a benchmark, or modelled). */
export interface Usage {
  sends: number;
  /** every SQS API request; each counts as one request (payloads < 64 KB) */
  sqsRequests: number;
  /** read request units as DynamoDB reports consumed (0.5 per eventually consistent 4 KB) */
  dynamoReadUnits: number;
  /** write request units, index writes included */
  dynamoWriteUnits: number;
  lambda: LambdaUsage[];
  schedulerInvocations: number;
  /** HTTP API requests (webhooks that the sends cause, e.g. delivery statuses) */
  apiRequests: number;
  /** CloudWatch Logs ingested */
  logBytes: number;
}

/** How the table is billed: per request, or per provisioned unit-hour. */
export type Capacity = 'on-demand' | 'provisioned';

/** US dollars per million sends, by service, and their total. */
export interface CostBreakdown {
  capacity: Capacity;
  byService: Record<string, number>;
  total: number;
}

/** List prices in US dollars, with where each was read. */
export interface Prices {
  checkedOn: string;
  region: string;
  dynamoDb: {
    source: string;
    provisionedSource: string;
    onDemandPerMillionWriteUnits: number;
    onDemandPerMillionReadUnits: number;
    perWcuHour: number;
    perRcuHour: number;
  };
  sqs: { source: string; perMillionRequests: number };
  lambda: { source: string; perGbSecond: number; perMillionRequests: number };
  scheduler: { source: string; perMillionInvocations: number };
  httpApi: { source: string; perMillionRequests: number };
  cloudWatch: {
    source: string;
    logsPerGbIngested: number;
    perAlarmMonth: number;
    perDashboardMonth: number;
    perCustomMetricMonth: number;
  };
  secretsManager: { source: string; perSecretMonth: number; perTenThousandCalls: number };
}

/** us-east-1 list prices, first volume tier, no free tier. */
export const PRICES: Prices = {
  checkedOn: '2026-11-21',
  region: 'us-east-1',
  dynamoDb: {
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    provisionedSource: 'https://aws.amazon.com/dynamodb/pricing/provisioned/',
    // Halved on 1 November 2024 (from 1.25 and 0.25).
    onDemandPerMillionWriteUnits: 0.625,
    onDemandPerMillionReadUnits: 0.125,
    perWcuHour: 0.00065,
    perRcuHour: 0.00013,
  },
  // Standard queue, first 100 billion requests a month.
  sqs: { source: 'https://aws.amazon.com/sqs/pricing/', perMillionRequests: 0.4 },
  // arm64, first 7.5 billion GB-seconds a month.
  lambda: {
    source: 'https://aws.amazon.com/lambda/pricing/',
    perGbSecond: 0.0000133334,
    perMillionRequests: 0.2,
  },
  scheduler: { source: 'https://aws.amazon.com/eventbridge/pricing/', perMillionInvocations: 1 },
  // HTTP API, first 300 million requests a month, each request metered per 512 KB.
  httpApi: { source: 'https://aws.amazon.com/api-gateway/pricing/', perMillionRequests: 1 },
  cloudWatch: {
    source: 'https://aws.amazon.com/cloudwatch/pricing/',
    // Standard log class; Lambda logs are tiered since May 2025 and their first tier is this price.
    logsPerGbIngested: 0.5,
    perAlarmMonth: 0.1,
    perDashboardMonth: 3,
    // First 10,000 metrics.
    perCustomMetricMonth: 0.3,
  },
  secretsManager: {
    source: 'https://aws.amazon.com/secrets-manager/pricing/',
    perSecretMonth: 0.4,
    perTenThousandCalls: 0.05,
  },
};

/**
 * Share of provisioned capacity that is consumed: auto scaling's usual target. A consumed unit
 * then costs the unit-hour price / 3600 / 0.7. This is a lower bound for this pipeline: its
 * sends come in bursts every 15 minutes, which auto scaling cannot follow.
 */
export const PROVISIONED_UTILISATION = 0.7;

/** 3 cadences, each every 15 minutes: 96 runs a day each. */
export const FANOUT_RUNS_PER_DAY = 3 * 96;

/** Price of one consumed write unit and one consumed read unit. */
export function dynamoUnitPrices(
  capacity: Capacity,
  prices: Prices = PRICES,
): { writeUnit: number; readUnit: number } {
  const { dynamoDb } = prices;
  if (capacity === 'on-demand') {
    return {
      writeUnit: dynamoDb.onDemandPerMillionWriteUnits / MILLION,
      readUnit: dynamoDb.onDemandPerMillionReadUnits / MILLION,
    };
  }
  // One WCU is one write unit a second and one RCU one read unit a second (a strongly
  // consistent 4 KB read; an eventually consistent one consumes 0.5), so an hour of a unit
  // serves 3,600 consumed units, of which only PROVISIONED_UTILISATION are used.
  const unitsPerProvisionedHour = SECONDS_PER_HOUR * PROVISIONED_UTILISATION;
  return {
    writeUnit: dynamoDb.perWcuHour / unitsPerProvisionedHour,
    readUnit: dynamoDb.perRcuHour / unitsPerProvisionedHour,
  };
}

/**
 * GB-seconds of one function's usage. Lambda bills each invocation rounded up to the ms, and
 * since August 2025 bills the INIT phase of cold starts too: the summed time should include both.
 */
export function lambdaGbSeconds(fn: LambdaUsage): number {
  return (fn.durationMs / 1_000) * (fn.memoryMb / MB_PER_GB);
}

/** Prices usage in US dollars per million sends; only DynamoDB depends on `capacity`. */
export function costPerMillionSends(
  usage: Usage,
  capacity: Capacity,
  prices: Prices = PRICES,
): CostBreakdown {
  if (!(usage.sends > 0)) {
    throw new RangeError(`usage.sends must be a positive number, got ${usage.sends}`);
  }
  const { writeUnit, readUnit } = dynamoUnitPrices(capacity, prices);
  const invocations = usage.lambda.reduce((total, fn) => total + fn.invocations, 0);
  const gbSeconds = usage.lambda.reduce((total, fn) => total + lambdaGbSeconds(fn), 0);
  const dollars: Record<string, number> = {
    'DynamoDB writes': usage.dynamoWriteUnits * writeUnit,
    'DynamoDB reads': usage.dynamoReadUnits * readUnit,
    SQS: (usage.sqsRequests * prices.sqs.perMillionRequests) / MILLION,
    'Lambda requests': (invocations * prices.lambda.perMillionRequests) / MILLION,
    'Lambda compute': gbSeconds * prices.lambda.perGbSecond,
    'EventBridge Scheduler':
      (usage.schedulerInvocations * prices.scheduler.perMillionInvocations) / MILLION,
    'API Gateway': (usage.apiRequests * prices.httpApi.perMillionRequests) / MILLION,
    'CloudWatch Logs': (usage.logBytes / BYTES_PER_GB) * prices.cloudWatch.logsPerGbIngested,
  };
  const scale = MILLION / usage.sends;
  const byService = Object.fromEntries(
    Object.entries(dollars).map(([service, cost]) => [service, cost * scale]),
  );
  return { capacity, byService, total: sum(Object.values(byService)) };
}

/** US dollars: cents from US$1 up, otherwise 4 significant digits (US$0.0123, US$0.50). */
export function formatUsd(n: number): string {
  if (!Number.isFinite(n)) return `US$${n}`;
  const sign = n < 0 ? '-' : '';
  const abs = Math.abs(n);
  if (abs >= 1) {
    const cents = abs.toLocaleString('en-US', {
      minimumFractionDigits: 2,
      maximumFractionDigits: 2,
    });
    return `${sign}US$${cents}`;
  }
  if (abs === 0) return 'US$0.00';
  const decimals = Math.max(2, 3 - Math.floor(Math.log10(abs)));
  // Keep 4 significant digits, drop their trailing zeros, but never show less than cents.
  const digits = abs.toFixed(decimals).replace(/(\.\d\d\d*?)0+$/, '$1');
  return `${sign}US$${digits}`;
}

/** Naive against ours, each on-demand and provisioned: the columns of costRows. */
export function compareCosts(
  ours: Usage,
  naive: Usage,
  prices: Prices = PRICES,
): Record<string, CostBreakdown> {
  return {
    'ours on-demand': costPerMillionSends(ours, 'on-demand', prices),
    'ours provisioned': costPerMillionSends(ours, 'provisioned', prices),
    'naive on-demand': costPerMillionSends(naive, 'on-demand', prices),
    'naive provisioned': costPerMillionSends(naive, 'provisioned', prices),
  };
}

/**
 * Rows for printTable: one per service (in the order first seen), then the total; one column
 * per breakdown, named by its key.
 */
export function costRows(columns: Record<string, CostBreakdown>): Record<string, string>[] {
  const breakdowns = Object.entries(columns);
  const services = [...new Set(breakdowns.flatMap(([, b]) => Object.keys(b.byService)))];
  const row = (service: string, cost: (b: CostBreakdown) => number) => ({
    service,
    ...Object.fromEntries(breakdowns.map(([column, b]) => [column, formatUsd(cost(b))])),
  });
  return [
    ...services.map((service) => row(service, (b) => b.byService[service] ?? 0)),
    row('total', (b) => b.total),
  ];
}

/** The sum of some numbers. */
export function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

export {
  type FixedParams,
  fixedCostRows,
  fixedMonthlyCost,
  scheduledRunsPerMonth,
} from './cost-fixed.ts';
export {
  NAIVE_PER_SEND,
  type NaiveParams,
  naiveUsage,
  scanReadUnits,
  type WebhookShare,
} from './cost-naive.ts';
