import type { PersonKey } from '../ports.ts';
import type { TrackedSend } from '../tracked-send.ts';

/** The UTC hour of an instant, as counts are keyed (the breaker's hours). */
export { hourOf } from './stop-spike.ts';

/**
 * A person's conversations with the Page, counted per UTC hour for the frequency-cap forecast
 * (`frequency-forecast.ts`): the organic ones (the person wrote to the Page: a `messages`
 * webhook) and our marketing messages to them. Only counts are kept, never a message's text.
 */

const HOUR_MS = 3_600_000;

/** How long counts are kept: the 7 days Meta's weekly cap looks back, and a day to spare. */
export const CONVERSATION_RETENTION_MS = 8 * 24 * HOUR_MS;

/** The counts of one UTC hour. */
export interface ConversationHour {
  /** The hour: its start in epoch ms, divided by 3,600,000. */
  hour: number;
  organic: number;
  marketing: number;
}

/** One conversation to count, once per `mark`. */
export interface ConversationCount extends PersonKey {
  kind: 'organic' | 'marketing';
  at: number;
  /**
   * What makes it one conversation: Meta's message id of the person's message (Meta retries a
   * delivery, with the same id), or our tracking id of a marketing message.
   */
  mark: string;
}

/** Where the counts are kept: the person's hours, one atomic write per conversation. */
export interface ConversationCounter {
  /** Adds each conversation to its hour, unless its `mark` was counted in that day before. */
  add(counts: readonly ConversationCount[]): Promise<void>;
}

/** Our accepted marketing messages as conversations to count, one per tracking id. */
export function marketingCounts(sends: readonly TrackedSend[]): ConversationCount[] {
  return sends.map(({ pageId, psid, sentAt, trackingId }) => ({
    pageId,
    psid,
    kind: 'marketing',
    at: sentAt,
    mark: trackingId,
  }));
}

/** A person's message to the Page, as the webhook parsed it (echoes are not). */
export interface InboundMessage extends PersonKey {
  timestamp: number;
  messageId?: string;
}

/**
 * The organic conversations of a delivery's `messages` events: one per message id (one without
 * an id is marked by its time), so a message delivered twice counts once; one whose time is no
 * date is left out.
 */
export function organicCounts(messages: readonly InboundMessage[]): ConversationCount[] {
  const counts = new Map<string, ConversationCount>();
  for (const { pageId, psid, timestamp, messageId } of messages) {
    // A time no date can hold (Meta's field is unchecked epoch ms) has no hour to count in.
    if (Number.isNaN(new Date(timestamp).getTime())) continue;
    const mark = messageId ?? `at:${timestamp}`;
    counts.set(`${pageId}#${psid}#${mark}`, { pageId, psid, kind: 'organic', at: timestamp, mark });
  }
  return [...counts.values()];
}
