import * as z from 'zod';
import type { WhenNoEdition } from './editions/edition.ts';
import type { QuietHours } from './page.ts';

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
  /**
   * Which of a person's topics goes when two fall due within one Marketing Message budget
   * (`compareTopicPriority`); `TOPIC_PRIORITY_DEFAULT` when absent.
   */
  priority?: number;
  /** When the admin API first saved the topic; kept by every later save. */
  createdAt?: number;
  /**
   * What a slot on a local date without an edition sends: the topic's own `message`
   * (`default`, when absent) or nothing at all (`skip`: no job, no cooldown used).
   */
  whenNoEdition?: WhenNoEdition;
  /**
   * Stops and blocks per 100 sends over 24 h above which the topic pauses (0 to 100,
   * `lib/domain/safety/stop-spike.ts`); `STOP_THRESHOLD_DEFAULT` when absent.
   */
  stopThreshold?: number;
  /** Set while the stop-spike breaker holds the topic: nothing is queued or sent for it. */
  paused?: TopicPause;
  /** Where the breaker's 24 h starts after an operator's resume (the counts before it are done). */
  breakerSince?: BreakerStart;
  /** The topic's own quiet hours, over its Page's (`lib/domain/safety/quiet-hours.ts`). */
  quietHours?: QuietHours;
  /**
   * Where the fan-out asks for a date's edition when none is stored (`lib/domain/content-source.ts`):
   * https, or http to a loopback host in the local runtime.
   */
  contentUrl?: string;
  /** When the topic's content source secret was made; the secret itself is never shown again. */
  contentSecretAt?: number;
}

/** Why the stop-spike breaker paused a topic: the 24 h that tripped it. */
export interface TopicPause {
  at: number;
  reason: string;
  sends: number;
  stops: number;
  /** Stops and blocks per 100 sends over the 24 h. */
  ratePercent: number;
  thresholdPercent: number;
}

/** An operator's resume: the hour it fell in counts only what came after these counts. */
export interface BreakerStart {
  at: number;
  /** That hour's counts when the topic was resumed. */
  sends: number;
  stops: number;
}

/** The stop rate, in percent, above which a topic that names none pauses. */
export const STOP_THRESHOLD_DEFAULT = 3;

/** The range of a topic's `priority`: whole numbers, higher goes first. */
export const TOPIC_PRIORITY_MIN = 0;
export const TOPIC_PRIORITY_MAX = 100;
/** The priority of a topic that names none: ties are broken by the default order. */
export const TOPIC_PRIORITY_DEFAULT = 0;

/** Rarer cadences go first among topics of equal priority: a person misses them longer. */
const CADENCE_RARITY: Record<Cadence, number> = { DAILY: 0, WEEKLY: 1, MONTHLY: 2 };

/** A topic's priority, as stored or by default. */
export function topicPriority(topic: Pick<Topic, 'priority'>): number {
  return topic.priority ?? TOPIC_PRIORITY_DEFAULT;
}

/**
 * The order in which a person's topics get their one Marketing Message budget: negative when
 * `a` goes before `b`. Higher `priority` first; then the rarer cadence; then the older topic
 * (one saved before `createdAt` was kept counts as oldest); then the topic id, so the order is
 * total and every sender agrees on it.
 */
export function compareTopicPriority(
  a: Pick<Topic, 'priority' | 'cadence' | 'createdAt' | 'topicId'>,
  b: Pick<Topic, 'priority' | 'cadence' | 'createdAt' | 'topicId'>,
): number {
  return (
    topicPriority(b) - topicPriority(a) ||
    CADENCE_RARITY[b.cadence] - CADENCE_RARITY[a.cadence] ||
    (a.createdAt ?? 0) - (b.createdAt ?? 0) ||
    (a.topicId < b.topicId ? -1 : a.topicId > b.topicId ? 1 : 0)
  );
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
