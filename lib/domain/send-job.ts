import * as z from 'zod';

/**
 * One message to send: who, which topic, for which slot, decided by which run. It carries
 * no token and no secret; the sender loads those. Shared by the fan-out and the sender.
 */
export const sendJobSchema = z.object({
  pageId: z.string().min(1),
  psid: z.string().min(1),
  topicId: z.string().min(1),
  /** The slot instant (epoch ms) this send is for: the once-per-slot claim key. */
  slot: z.number().int(),
  /** When the run that queued it was scheduled (epoch ms): staleness is judged from it. */
  scheduledTime: z.number().int(),
  /** Set on a broadcast's job: it sends the broadcast's message, and is skipped, never deferred, in cooldown. */
  broadcastId: z.string().min(1).optional(),
});
export type SendJob = z.infer<typeof sendJobSchema>;

/** Parses an SQS message body into a job; throws a ZodError naming the bad field. */
export function parseSendJob(body: string): SendJob {
  return sendJobSchema.parse(JSON.parse(body));
}

/** A deterministic id for a job, so a rerun of the same run can be recognised. */
export function sendJobId(job: SendJob): string {
  return `${job.pageId}#${job.psid}#${job.topicId}#${job.slot}`;
}
