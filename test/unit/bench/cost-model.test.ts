import { describe, expect, it } from 'vitest';
import {
  type CostBreakdown,
  compareCosts,
  costPerMillionSends,
  costRows,
  FANOUT_RUNS_PER_DAY,
  fixedCostRows,
  fixedMonthlyCost,
  formatUsd,
  lambdaGbSeconds,
  type NaiveParams,
  naiveUsage,
  PRICES,
  PROVISIONED_UTILISATION,
  scanReadUnits,
  scheduledRunsPerMonth,
  type Usage,
} from '../../../bench/cost-model.ts';

/** Usage of nothing at all, for `sends` sends; tests add what they price. */
const aUsage = (overrides: Partial<Usage> = {}): Usage => ({
  sends: 1_000,
  sqsRequests: 0,
  dynamoReadUnits: 0,
  dynamoWriteUnits: 0,
  lambda: [],
  schedulerInvocations: 0,
  apiRequests: 0,
  logBytes: 0,
  ...overrides,
});

const naiveParams = (overrides: Partial<NaiveParams> = {}): NaiveParams => ({
  sends: 10_000,
  tableItems: 10_000,
  avgItemBytes: 400,
  fanoutRunsPerDay: FANOUT_RUNS_PER_DAY,
  senderDurationMs: 60,
  senderMemoryMb: 512,
  fanoutDurationMsPerRun: 2_000,
  fanoutMemoryMb: 512,
  logBytesPerSend: 600,
  apiRequestsPerSend: 2,
  webhook: {
    durationMsPerRequest: 20,
    memoryMb: 1_024,
    readUnitsPerRequest: 0,
    writeUnitsPerRequest: 2,
  },
  ...overrides,
});

/** The batched design for the same sends: batches of 10 everywhere, a Query on the due index. */
const batchedUsage = (sends: number): Usage => {
  const batches = sends / 10;
  return {
    sends,
    // SendMessageBatch, ReceiveMessage and DeleteMessageBatch per batch of 10.
    sqsRequests: 3 * batches,
    // One rate-bucket update per batch, a claim and its index write per send, and the
    // webhook's 2 units for each of its 2 requests per send.
    dynamoWriteUnits: batches + 2 * sends + 2 * sends * 2,
    // Due-index Query pages plus the same three GetItems per send as the naive design.
    dynamoReadUnits: FANOUT_RUNS_PER_DAY * 2 + sends * 1.5,
    lambda: [
      { name: 'sender', invocations: batches, durationMs: batches * 300, memoryMb: 512 },
      {
        name: 'fanout',
        invocations: FANOUT_RUNS_PER_DAY,
        durationMs: FANOUT_RUNS_PER_DAY * 200,
        memoryMb: 512,
      },
      { name: 'webhook', invocations: 2 * sends, durationMs: 2 * sends * 20, memoryMb: 1_024 },
    ],
    schedulerInvocations: FANOUT_RUNS_PER_DAY,
    apiRequests: 2 * sends,
    logBytes: sends * 600,
  };
};

/** Relative comparison, for prices far below toBeCloseTo's absolute precision. */
const expectRelativelyClose = (actual: number | undefined, expected: number) => {
  expect(actual).toBeDefined();
  expect((actual ?? Number.NaN) / expected).toBeCloseTo(1, 12);
};

const sumOf = (breakdown: CostBreakdown) =>
  Object.values(breakdown.byService).reduce((total, cost) => total + cost, 0);

describe('costPerMillionSends', () => {
  it('prices one on-demand write unit per send at US$0.625 per million sends', () => {
    const usage = aUsage({ sends: 1_000, dynamoWriteUnits: 1_000 });

    const cost = costPerMillionSends(usage, 'on-demand');

    expect(cost.byService['DynamoDB writes']).toBeCloseTo(0.625, 12);
    expect(cost.total).toBeCloseTo(0.625, 12);
  });

  it('prices on-demand read units as consumed, at US$0.125 per million', () => {
    const usage = aUsage({ sends: 1_000, dynamoReadUnits: 500 });

    const cost = costPerMillionSends(usage, 'on-demand');

    expect(cost.byService['DynamoDB reads']).toBeCloseTo(0.0625, 12);
  });

  it('prices a provisioned unit at the unit-hour price over 3,600 seconds at 70 % utilisation', () => {
    const usage = aUsage({ sends: 1_000_000, dynamoWriteUnits: 1, dynamoReadUnits: 1 });

    const cost = costPerMillionSends(usage, 'provisioned');

    expect(PROVISIONED_UTILISATION).toBe(0.7);
    expectRelativelyClose(cost.byService['DynamoDB writes'], 0.00065 / 3_600 / 0.7);
    expectRelativelyClose(cost.byService['DynamoDB reads'], 0.00013 / 3_600 / 0.7);
  });

  it('changes only the DynamoDB lines between on-demand and provisioned', () => {
    const usage = batchedUsage(10_000);

    const onDemand = costPerMillionSends(usage, 'on-demand');
    const provisioned = costPerMillionSends(usage, 'provisioned');

    for (const [service, cost] of Object.entries(onDemand.byService)) {
      if (service.startsWith('DynamoDB')) expect(provisioned.byService[service]).not.toBe(cost);
      else expect(provisioned.byService[service]).toBe(cost);
    }
  });

  it('computes GB-seconds from memory in GB of 1,024 MB and duration in seconds', () => {
    const sender = { name: 'sender', invocations: 1_000, durationMs: 100_000, memoryMb: 1_024 };
    const usage = aUsage({ sends: 1_000, lambda: [sender] });

    const cost = costPerMillionSends(usage, 'on-demand');

    expect(lambdaGbSeconds({ ...sender, durationMs: 2_000, memoryMb: 512 })).toBe(1);
    // 100 GB-s per thousand sends is 100,000 GB-s per million.
    expect(cost.byService['Lambda compute']).toBeCloseTo(100_000 * 0.0000133334, 9);
    expect(cost.byService['Lambda requests']).toBeCloseTo(0.2, 12);
  });

  it('prices SQS requests, scheduler invocations, HTTP API requests and log bytes', () => {
    const usage = aUsage({
      sends: 1_000_000,
      sqsRequests: 1_000_000,
      schedulerInvocations: 1_000_000,
      apiRequests: 2_000_000,
      logBytes: 3 * 1024 ** 3,
    });

    const cost = costPerMillionSends(usage, 'on-demand');

    expect(cost.byService.SQS).toBeCloseTo(0.4, 12);
    expect(cost.byService['EventBridge Scheduler']).toBeCloseTo(1, 12);
    expect(cost.byService['API Gateway']).toBeCloseTo(2, 12);
    expect(cost.byService['CloudWatch Logs']).toBeCloseTo(1.5, 12);
  });

  it('gives a total equal to the sum of its services', () => {
    const usage = batchedUsage(10_000);

    const onDemand = costPerMillionSends(usage, 'on-demand');
    const provisioned = costPerMillionSends(usage, 'provisioned');

    expect(onDemand.total).toBeGreaterThan(0);
    expect(onDemand.total).toBeCloseTo(sumOf(onDemand), 12);
    expect(provisioned.total).toBeCloseTo(sumOf(provisioned), 12);
  });

  it('uses the prices it is given', () => {
    const usage = aUsage({ sends: 1_000, sqsRequests: 1_000 });
    const prices = { ...PRICES, sqs: { ...PRICES.sqs, perMillionRequests: 0.5 } };

    const cost = costPerMillionSends(usage, 'on-demand', prices);

    expect(cost.byService.SQS).toBeCloseTo(0.5, 12);
  });

  it('refuses usage of zero sends', () => {
    expect(() => costPerMillionSends(aUsage({ sends: 0 }), 'on-demand')).toThrow(RangeError);
  });
});

describe('naiveUsage', () => {
  it('reads the bytes of the table in a Scan, not one 4 KB block per item', () => {
    // 10,000 x 400 B = 4,000,000 B = 976.6 blocks of 4 KB, so 977 blocks at 0.5 unit each.
    expect(scanReadUnits(10_000, 400)).toBe(488.5);
  });

  it('scans the whole table on every fan-out run', () => {
    const params = naiveParams({ sends: 1_000, fanoutRunsPerDay: 288 });

    const usage = naiveUsage(params);

    // 1.5 units per send for three GetItems, 488.5 per Scan, none for the webhook.
    expect(usage.dynamoReadUnits).toBe(1_000 * 1.5 + 288 * 488.5);
    expect(usage.schedulerInvocations).toBe(288);
  });

  it('makes three SQS requests, three write units and one sender invocation per send', () => {
    const params = naiveParams({ sends: 2_000, apiRequestsPerSend: 0 });

    const usage = naiveUsage(params);

    expect(usage.sends).toBe(2_000);
    expect(usage.sqsRequests).toBe(6_000);
    expect(usage.dynamoWriteUnits).toBe(6_000);
    const sender = usage.lambda.find((fn) => fn.name === 'sender');
    expect(sender).toEqual({
      name: 'sender',
      invocations: 2_000,
      durationMs: 120_000,
      memoryMb: 512,
    });
  });

  it('carries the webhook that the sends cause, as the batched design does', () => {
    const params = naiveParams({ sends: 1_000, apiRequestsPerSend: 2 });

    const usage = naiveUsage(params);

    expect(usage.apiRequests).toBe(2_000);
    expect(usage.dynamoWriteUnits).toBe(1_000 * 3 + 2_000 * 2);
    expect(usage.lambda.find((fn) => fn.name === 'webhook')?.invocations).toBe(2_000);
    expect(usage.logBytes).toBe(600_000);
  });

  it('costs more per million sends than the batched design for the same sends', () => {
    const sends = 10_000;
    const naive = naiveUsage(naiveParams({ sends }));

    const costs = compareCosts(batchedUsage(sends), naive);

    expect(costs['naive on-demand']?.total).toBeGreaterThan(costs['ours on-demand']?.total ?? 0);
    expect(costs['naive provisioned']?.total).toBeGreaterThan(
      costs['ours provisioned']?.total ?? 0,
    );
  });
});

describe('fixedMonthlyCost', () => {
  const params = {
    idleFanoutDurationMs: 50,
    idleFanoutLogBytes: 500,
    coldStartsPerMonth: 20_000,
    alarms: 4,
    customMetrics: 5,
  };

  it('counts 8,640 scheduler invocations in 30 days for 3 schedules every 15 minutes', () => {
    const fixed = fixedMonthlyCost(params);

    expect(scheduledRunsPerMonth()).toBe(8_640);
    expect(fixed.items['EventBridge Scheduler']).toBeCloseTo(0.00864, 12);
    expect(fixed.items['Lambda fan-out requests']).toBeCloseTo(8_640 * 0.0000002, 12);
    // 8,640 runs x 50 ms x 0.5 GB = 216 GB-s.
    expect(fixed.items['Lambda fan-out compute']).toBeCloseTo(216 * 0.0000133334, 12);
  });

  it('counts three empty receives a minute for each idle poller', () => {
    const fixed = fixedMonthlyCost({ ...params, sqsPollers: 5, longPollSeconds: 20 });

    // 5 pollers x 3 a minute x 43,200 minutes = 648,000 requests.
    expect(fixed.items['SQS empty receives']).toBeCloseTo(0.2592, 12);
  });

  it('charges the secret, its calls, alarms, the dashboard and custom metrics', () => {
    const fixed = fixedMonthlyCost(params);

    expect(fixed.items['Secrets Manager secrets']).toBeCloseTo(0.4, 12);
    expect(fixed.items['Secrets Manager API calls']).toBeCloseTo(0.1, 12);
    expect(fixed.items['CloudWatch alarms']).toBeCloseTo(0.4, 12);
    expect(fixed.items['CloudWatch dashboards']).toBeCloseTo(3, 12);
    expect(fixed.items['CloudWatch custom metrics']).toBeCloseTo(1.5, 12);
  });

  it('gives a total equal to the sum of its items', () => {
    const fixed = fixedMonthlyCost(params);

    const sum = Object.values(fixed.items).reduce((total, cost) => total + cost, 0);
    expect(fixed.total).toBeCloseTo(sum, 12);
    expect(fixedCostRows(fixed).at(-1)).toEqual({
      item: 'total',
      'US$ a month': formatUsd(fixed.total),
    });
  });
});

describe('formatUsd', () => {
  it('shows 4 significant digits below a dollar, without trailing zeros past the cents', () => {
    expect(formatUsd(0.0123)).toBe('US$0.0123');
    expect(formatUsd(0.00012346)).toBe('US$0.0001235');
    expect(formatUsd(0.5)).toBe('US$0.50');
    expect(formatUsd(0)).toBe('US$0.00');
  });

  it('shows cents from a dollar up', () => {
    expect(formatUsd(1)).toBe('US$1.00');
    expect(formatUsd(1_234.567)).toBe('US$1,234.57');
  });
});

describe('costRows', () => {
  it('makes one row per service and a total, with a column per breakdown', () => {
    const sends = 10_000;
    const costs = compareCosts(batchedUsage(sends), naiveUsage(naiveParams({ sends })));

    const rows = costRows(costs);

    const services = Object.keys(costs['ours on-demand']?.byService ?? {});
    expect(rows.map((row) => row.service)).toEqual([...services, 'total']);
    expect(Object.keys(rows[0] ?? {})).toEqual([
      'service',
      'ours on-demand',
      'ours provisioned',
      'naive on-demand',
      'naive provisioned',
    ]);
    expect(rows.at(-1)?.['naive on-demand']).toBe(formatUsd(costs['naive on-demand']?.total ?? 0));
  });
});
