import * as z from 'zod';

/** How often a topic sends: every day, once a week on `weekday`, or once a month on `dayOfMonth`. */
export const cadenceSchema = z.enum(['DAILY', 'WEEKLY', 'MONTHLY']);
export type Cadence = z.infer<typeof cadenceSchema>;
export const CADENCES: readonly Cadence[] = cadenceSchema.options;

/** A topic people opt in to; its id is the opt-in `payload` Meta echoes back. */
export interface Topic {
  pageId: string;
  topicId: string;
  title: string;
  cadence: Cadence;
  /** Local send time in the subscriber's zone, `HH:mm`. */
  sendTime: string;
  /** ISO weekday, 1 = Monday; used by WEEKLY slots (default Monday). */
  weekday?: number;
  /** Day of month 1 to 28; used by MONTHLY slots (default the 1st). */
  dayOfMonth?: number;
  /** A Send API `message` object, validated when the topic is saved. */
  message: Record<string, unknown>;
}
