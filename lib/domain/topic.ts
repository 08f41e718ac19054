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

/**
 * The largest topic message, as JSON. Meta's richest templates take a few KB; the bound keeps a
 * topic item far below DynamoDB's 400 KB, whatever the shape of the message.
 */
export const MESSAGE_MAX_JSON_BYTES = 64 * 1024;
/** DynamoDB stores documents at most 32 levels deep; Meta's templates need about 8. */
export const MESSAGE_MAX_DEPTH = 16;
/** DynamoDB's smallest magnitude (1e-130); the SDK refuses numbers beyond the safe integers. */
const NUMBER_MIN_MAGNITUDE = 1e-130;

/** Why a message cannot be stored as a topic's (a sentence for the operator), or undefined. */
export function unstorableMessage(message: unknown): string | undefined {
  // Depth first: the walk stops at the limit, where serialising a deeper value might not.
  const reason = unstorableValue(message, 1);
  if (reason !== undefined) return reason;
  const bytes = new TextEncoder().encode(JSON.stringify(message)).length;
  if (bytes > MESSAGE_MAX_JSON_BYTES) {
    return `at most ${MESSAGE_MAX_JSON_BYTES} bytes as JSON, got ${bytes}`;
  }
  return undefined;
}

function unstorableValue(value: unknown, depth: number): string | undefined {
  if (typeof value === 'number') {
    const magnitude = Math.abs(value);
    if (
      magnitude > Number.MAX_SAFE_INTEGER ||
      (magnitude > 0 && magnitude < NUMBER_MIN_MAGNITUDE)
    ) {
      return `numbers must be 0 or between 1e-130 and ${Number.MAX_SAFE_INTEGER} in size, got ${value}`;
    }
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  if (depth > MESSAGE_MAX_DEPTH) return `at most ${MESSAGE_MAX_DEPTH} levels of objects and lists`;
  const entries = Array.isArray(value) ? value : Object.values(value);
  for (const entry of entries) {
    const reason = unstorableValue(entry, depth + 1);
    if (reason !== undefined) return reason;
  }
  return undefined;
}
