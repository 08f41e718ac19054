import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mapWithConcurrency } from '../concurrency.ts';
import {
  CONVERSATION_RETENTION_MS,
  type ConversationCounter,
  type ConversationHour,
  hourOf,
} from '../domain/safety/conversation-counts.ts';
import { statsDay } from '../domain/stats.ts';
import { sha256 } from '../hash.ts';
import { CONVERSATION_DAY_PREFIX, keys } from './keys.ts';

/**
 * Writes in flight per call, as many as the webhook's other per-event writes (the contacts'):
 * a delivery's counts then take as few round trips as its contacts, not four times as many.
 */
const CONCURRENCY = 64;

/**
 * A person's conversation counts (`SUB#<pageId>#<psid>` / `CONVERSATIONS#<yyyy-mm-dd>`): one
 * item a UTC day, a number per hour and kind (`o07`: organic at 07:00 UTC, `m07`: marketing),
 * and `marks`, the hashes of what it counted, so a retried delivery counts nothing twice. The
 * item expires after 8 days (`expiresAt`, the table's TTL attribute).
 */
export function dynamoConversationCounter(
  client: DynamoDBDocumentClient,
  table: string,
): ConversationCounter {
  return {
    async add(counts) {
      await mapWithConcurrency(counts, CONCURRENCY, async ({ pageId, psid, kind, at, mark }) => {
        const hour = hourOf(at);
        const day = statsDay(at);
        const hashed = sha256(`${kind}#${mark}`).slice(0, 16);
        try {
          await client.send(
            new UpdateCommand({
              TableName: table,
              Key: keys.conversationDay(pageId, psid, day),
              UpdateExpression: 'ADD #count :one, #marks :marks SET expiresAt = :expiresAt',
              // Counted once: a mark already in the day's set is a duplicate.
              ConditionExpression: 'NOT contains(#marks, :mark)',
              ExpressionAttributeNames: { '#count': countName(kind, hour), '#marks': 'marks' },
              ExpressionAttributeValues: {
                ':one': 1,
                ':marks': new Set([hashed]),
                ':mark': hashed,
                ':expiresAt': Math.floor((Date.parse(day) + CONVERSATION_RETENTION_MS) / 1000),
              },
            }),
          );
        } catch (error: unknown) {
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
        }
      });
    },
  };
}

/** The attribute of one hour's count: `o` or `m`, then the UTC hour as two digits. */
function countName(kind: 'organic' | 'marketing', hour: number): string {
  return `${kind === 'organic' ? 'o' : 'm'}${String(hour % 24).padStart(2, '0')}`;
}

/** The hours of a conversation day item read back; none for any other item. */
export function conversationHoursOf(item: Record<string, unknown>): ConversationHour[] {
  const sk = String(item.sk);
  if (!sk.startsWith(CONVERSATION_DAY_PREFIX)) return [];
  const dayStart = Date.parse(sk.slice(CONVERSATION_DAY_PREFIX.length));
  if (Number.isNaN(dayStart)) return [];
  const byHour = new Map<number, ConversationHour>();
  for (const [name, value] of Object.entries(item)) {
    const match = /^([om])(\d{2})$/.exec(name);
    if (!match || typeof value !== 'number') continue;
    const hour = hourOf(dayStart) + Number(match[2]);
    const entry = byHour.get(hour) ?? { hour, organic: 0, marketing: 0 };
    if (match[1] === 'o') entry.organic += value;
    else entry.marketing += value;
    byHour.set(hour, entry);
  }
  return [...byHour.values()].sort((a, b) => a.hour - b.hour);
}
