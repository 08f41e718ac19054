import type { Usage } from './cost-model.ts';
import { totalRequests } from './instrument.ts';
import { MEMORY_MB, type PipelineCounts } from './pipeline.ts';

/**
 * The measured usage of an end-to-end run, split in two: the send path (fan-out, queue,
 * sender, their logs), priced per million sends, and Meta's status webhooks (API Gateway,
 * the webhook function, its reads and writes and logs), priced per million status events.
 */

/** The send path's share of a run: what `sends` sends cost from the fan-out to Meta. */
export function sendPathUsage(counts: PipelineCounts, sends: number): Usage {
  const { fanout, sender, esm } = counts.functions;
  return {
    sends,
    sqsRequests: totalRequests(fanout.sqs) + totalRequests(sender.sqs) + totalRequests(esm.sqs),
    dynamoReadUnits: fanout.dynamo.readUnits + sender.dynamo.readUnits,
    dynamoWriteUnits: fanout.dynamo.writeUnits + sender.dynamo.writeUnits,
    lambda: (['fanout', 'sender'] as const).map((name) => ({
      name,
      invocations: counts.functions[name].invocations,
      durationMs: counts.functions[name].durationMs,
      memoryMb: MEMORY_MB[name],
    })),
    // The one scheduled run that did the work; the idle runs are in the fixed monthly cost.
    schedulerInvocations: 1,
    apiRequests: 0,
    logBytes: counts.logBytesBy.fanout + counts.logBytesBy.sender,
  };
}

/** The status webhooks' share of a run, per status event (`sends` counts events here). */
export function statusUsage(counts: PipelineCounts, events: number): Usage {
  const { webhook } = counts.functions;
  return {
    sends: events,
    sqsRequests: 0,
    dynamoReadUnits: webhook.dynamo.readUnits,
    dynamoWriteUnits: webhook.dynamo.writeUnits,
    lambda: [
      {
        name: 'webhook',
        invocations: webhook.invocations,
        durationMs: webhook.durationMs,
        memoryMb: MEMORY_MB.webhook,
      },
    ],
    schedulerInvocations: 0,
    apiRequests: counts.apiRequests,
    logBytes: counts.logBytesBy.webhook,
  };
}

/**
 * What a naive webhook does per status event: one request and one invocation each (no
 * batching by Meta assumed), the raw body archived and marked applied, the send's status
 * moved and its counter added (4 write units); handler time and log bytes as measured per
 * request of ours.
 */
export function naiveStatusUsage(
  events: number,
  measured: { durationMsPerRequest: number; logBytesPerRequest: number },
): Usage {
  return {
    sends: events,
    sqsRequests: 0,
    dynamoReadUnits: 0,
    dynamoWriteUnits: events * 4,
    lambda: [
      {
        name: 'webhook',
        invocations: events,
        durationMs: events * measured.durationMsPerRequest,
        memoryMb: MEMORY_MB.webhook,
      },
    ],
    schedulerInvocations: 0,
    apiRequests: events,
    logBytes: events * measured.logBytesPerRequest,
  };
}
