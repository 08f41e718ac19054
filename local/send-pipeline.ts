import {
  GetQueueAttributesCommand,
  type QueueAttributeName,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/** Where the send pipeline stands: the send queue's counts and what the runtime is running. */
export interface SendPipelineState {
  /** Jobs ready to be received. */
  visible: number;
  /** Jobs sent with a delay that has not passed. */
  delayed: number;
  /** Jobs received: in a batch, put back by the sender, or waiting to be retried. */
  notVisible: number;
  /** Of `notVisible`, the jobs the sender put back until a later time on the runtime clock. */
  waitingOnClock: number;
  /** When the first of those comes back (epoch ms on the runtime clock); absent when none. */
  nextWakeAt?: number;
  batchesRunning: number;
  fanoutsRunning: number;
  /** Nothing runs and every job left waits on the clock: nothing more is sent before that time. */
  idle: boolean;
  /** Idle, and no job is left at all. */
  drained: boolean;
}

/** What the runtime counts itself, besides the queue. */
export interface PipelineCounts {
  batchesRunning(): number;
  fanoutsRunning(): number;
  waitingOnClock(): number;
  earliestWake(): number | undefined;
}

/**
 * Reads the pipeline. The runtime's counts are read before and after the queue's, so a batch or
 * fan-out that starts or ends meanwhile makes the answer "not idle" rather than a wrong "idle".
 */
export async function readSendPipeline(
  sqs: SQSClient,
  queueUrl: string,
  counts: PipelineCounts,
): Promise<SendPipelineState> {
  const before = counts.batchesRunning() + counts.fanoutsRunning();
  const answer = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesDelayed',
        'ApproximateNumberOfMessagesNotVisible',
      ],
    }),
  );
  const attribute = (name: QueueAttributeName) => Number(answer.Attributes?.[name] ?? Number.NaN);
  const state = {
    visible: attribute('ApproximateNumberOfMessages'),
    delayed: attribute('ApproximateNumberOfMessagesDelayed'),
    notVisible: attribute('ApproximateNumberOfMessagesNotVisible'),
    waitingOnClock: counts.waitingOnClock(),
    batchesRunning: counts.batchesRunning(),
    fanoutsRunning: counts.fanoutsRunning(),
  };
  const nextWakeAt = counts.earliestWake();
  const idle =
    before === 0 &&
    state.batchesRunning === 0 &&
    state.fanoutsRunning === 0 &&
    state.visible === 0 &&
    state.delayed === 0 &&
    state.notVisible <= state.waitingOnClock;
  return {
    ...state,
    ...(nextWakeAt !== undefined && { nextWakeAt }),
    idle,
    drained: idle && state.notVisible === 0,
  };
}
