import type { LambdaUsage, Usage } from './cost-model.ts';

/**
 * The naive design the cost model prices ours against: one SQS message per request, no
 * batching, a Scan of the table per fan-out run. Pure: no I/O.
 */

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
