/**
 * Turns usage into US dollars per million sends, for `npm run bench`. Pure: no I/O.
 *
 * Everything is priced at us-east-1 list prices WITHOUT any free tier: the free tiers
 * (Lambda's 1 M requests and 400,000 GB-s, SQS's 1 M requests, Scheduler's 14 M invocations,
 * CloudWatch's 10 alarms, 3 dashboards, 10 metrics and 5 GB of logs a month) are per account
 * and shared with whatever else the account runs, so they say nothing about this design.
 */

const MILLION = 1_000_000;
const SECONDS_PER_HOUR = 3_600;
/** A month is 30 days here, for fixed charges. */
const MINUTES_PER_MONTH = 30 * 24 * 60;
/** AWS bills a GB of data as 2^30 bytes. */
const BYTES_PER_GB = 1024 ** 3;
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

/** Per-request figures of the webhook handler, which both designs share. */
export interface WebhookShare {
  /** Handler time of one webhook request, ms. */
  durationMsPerRequest: number;
  memoryMb: number;
  /** Read units one webhook request consumes. */
  readUnitsPerRequest: number;
  /** Write units one webhook request consumes, index writes included. */
  writeUnitsPerRequest: number;
}

/** Inputs of the naive design's model; all per day. */
export interface NaiveParams {
  /** Sends a day; the usage returned is one day's, for exactly this many sends. */
  sends: number;
  /** Items in the table the fan-out scans (every item in it, not only the due ones). */
  tableItems: number;
  /** Average item size in bytes as DynamoDB counts it (attribute names and values). */
  avgItemBytes: number;
  /** Fan-out runs a day: FANOUT_RUNS_PER_DAY (288) for 3 cadences every 15 minutes. */
  fanoutRunsPerDay: number;
  /** Handler time of one sender invocation that handles a single message, ms (measured). */
  senderDurationMs: number;
  senderMemoryMb: number;
  /** Handler time of one fan-out run (Scan plus one SendMessage per job), ms. */
  fanoutDurationMsPerRun: number;
  fanoutMemoryMb: number;
  /** CloudWatch Logs bytes per send, from every function. */
  logBytesPerSend: number;
  /** HTTP API requests a send causes (delivery and read statuses). */
  apiRequestsPerSend: number;
  /** The webhook behind those requests: the same handler in both designs. */
  webhook: WebhookShare;
}

/**
 * What the naive design does per send (items under 1 KB, so a write is 1 unit, and under 4 KB,
 * so an eventually consistent read is 0.5 unit).
 */
export const NAIVE_PER_SEND = {
  /** SendMessage, ReceiveMessage (one message each) and DeleteMessage: no batching. */
  sqsRequests: 3,
  /** Rate-bucket UpdateItem, claim UpdateItem, and the due index's copy of the claim. */
  writeUnits: 3,
  /** Eventually consistent GetItem of the subscription, the Page and the topic. */
  readUnits: 3 * 0.5,
  /** One sender invocation per message. */
  senderInvocations: 1,
} as const;

/** Bytes a Scan's read units are counted in. */
const SCAN_BLOCK_BYTES = 4_096;
const EVENTUALLY_CONSISTENT = 0.5;

/**
 * Read units of one eventually consistent Scan of the whole table. A Scan is charged on the
 * bytes it reads, rounded up to 4 KB per 1 MB page, not per item: 10,000 items of 400 B are
 * 977 blocks of 4 KB, 488.5 units (5,000 if each item were rounded up on its own).
 */
export function scanReadUnits(tableItems: number, avgItemBytes: number): number {
  return Math.ceil((tableItems * avgItemBytes) / SCAN_BLOCK_BYTES) * EVENTUALLY_CONSISTENT;
}

/**
 * One day of the naive design: one SQS message per request, no batching, and a full table Scan
 * on every fan-out run instead of a Query on the due index. Empty receives of idle pollers are
 * left out here as in measured usage: they are the same for both designs (fixedMonthlyCost).
 */
export function naiveUsage(params: NaiveParams): Usage {
  const { sends, fanoutRunsPerDay: runs, webhook } = params;
  const apiRequests = sends * params.apiRequestsPerSend;
  const lambda: LambdaUsage[] = [
    {
      name: 'sender',
      invocations: sends * NAIVE_PER_SEND.senderInvocations,
      durationMs: sends * NAIVE_PER_SEND.senderInvocations * params.senderDurationMs,
      memoryMb: params.senderMemoryMb,
    },
    {
      name: 'fanout',
      invocations: runs,
      durationMs: runs * params.fanoutDurationMsPerRun,
      memoryMb: params.fanoutMemoryMb,
    },
    {
      name: 'webhook',
      invocations: apiRequests,
      durationMs: apiRequests * webhook.durationMsPerRequest,
      memoryMb: webhook.memoryMb,
    },
  ];
  return {
    sends,
    sqsRequests: sends * NAIVE_PER_SEND.sqsRequests,
    dynamoReadUnits:
      sends * NAIVE_PER_SEND.readUnits +
      runs * scanReadUnits(params.tableItems, params.avgItemBytes) +
      apiRequests * webhook.readUnitsPerRequest,
    dynamoWriteUnits:
      sends * NAIVE_PER_SEND.writeUnits + apiRequests * webhook.writeUnitsPerRequest,
    lambda,
    schedulerInvocations: runs,
    apiRequests,
    logBytes: sends * params.logBytesPerSend,
  };
}

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

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
