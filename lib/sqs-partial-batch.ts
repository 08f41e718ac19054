import type { SQSBatchResponse } from 'aws-lambda';

/**
 * Builds the SQS partial batch response from one settled result per record, in order: a
 * rejected record, or one whose outcome says it stays on the queue, is reported as a batch
 * item failure, so SQS keeps it (and, past the queue's maxReceiveCount, moves it to the DLQ).
 */
export function partialBatchResponse<T>(
  records: readonly { messageId: string }[],
  results: readonly PromiseSettledResult<T>[],
  stays: (outcome: T) => boolean = () => false,
): SQSBatchResponse {
  return {
    batchItemFailures: records
      .filter((_, index) => {
        const result = results[index];
        return result === undefined || result.status === 'rejected' || stays(result.value);
      })
      .map(({ messageId }) => ({ itemIdentifier: messageId })),
  };
}
