/**
 * The send queue and how the sender consumes it, read by the CDK stack and by the local
 * runtime so both behave alike. Plain data: no SDK or CDK types here.
 */
export const SEND_QUEUE = {
  /** Jobs per sender invocation (the SQS event source's batch size). */
  batchSize: 10,
  /** Sender invocations at once (the event source's maxConcurrency). */
  maxConcurrency: 5,
  senderTimeoutSeconds: 30,
  /** Six times the sender's timeout, as AWS advises for event source mappings. */
  visibilityTimeoutSeconds: 6 * 30,
  /** Generous: every deferral (cooldown, rate) is a receive too. */
  maxReceiveCount: 20,
  dlqRetentionDays: 14,
} as const;
