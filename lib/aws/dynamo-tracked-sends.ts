import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import {
  CLOCK_SKEW_MS,
  type SendRef,
  type SendStatus,
  STATUS_RANK,
  type StatusMove,
  TRACKED_SEND_TTL_MS,
  type TrackedSend,
  type TrackedSendStore,
} from '../domain/tracked-send.ts';
import { batchWrite } from './dynamo-batch.ts';
import { queryPartition } from './dynamo-query.ts';
import { keys } from './keys.ts';

const trackedItem = z.object({
  sk: z.string(),
  pageId: z.string(),
  psid: z.string(),
  topicId: z.string(),
  campaignId: z.string(),
  trackingId: z.string(),
  sentAt: z.number(),
  statusRank: z.number(),
  expiresAt: z.number(),
  editionDate: z.string().optional(),
});
type TrackedItem = z.infer<typeof trackedItem>;

const STATUS_OF_RANK = new Map(
  Object.entries(STATUS_RANK).map(([status, rank]) => [rank, status as SendStatus]),
);

/**
 * Kept MM sends (`MMSEND#<sha256 of token>` / `TRACK#<trackingId>`), about 200 bytes each: one
 * write unit per send, removed by the table's TTL on `expiresAt` (seconds).
 */
export function dynamoTrackedSends(
  client: DynamoDBDocumentClient,
  table: string,
): TrackedSendStore {
  return {
    async record(sends) {
      const unique = new Map(sends.map((send) => [send.trackingId, send]));
      await batchWrite(
        client,
        table,
        [...unique.values()].map((send) => ({ PutRequest: { Item: itemOf(send) } })),
      );
    },

    async advance(ref, status, now) {
      const live = (item: TrackedItem | undefined) =>
        item && item.expiresAt * 1000 > now ? item : undefined;
      let trackingId: string;
      if ('trackingId' in ref) {
        trackingId = ref.trackingId;
      } else {
        const latest = await latestBefore(client, table, ref, now);
        if (!latest) return { kind: 'unmatched' };
        trackingId = latest.trackingId;
      }
      if (status === 'sent') {
        // An echo moves nothing: a read, not a write.
        const item = live(await read(client, table, ref.token, trackingId));
        if (!item) return { kind: 'unmatched' };
        return { kind: 'unchanged', send: sendOf(item), current: statusOf(item.statusRank) };
      }
      const moved = await move(client, table, ref.token, trackingId, status, now);
      if (moved) return moved;
      // Refused: a duplicate, a status behind the one stored, or no live send: read which.
      const item = live(await read(client, table, ref.token, trackingId));
      if (!item) return { kind: 'unmatched' };
      return { kind: 'unchanged', send: sendOf(item), current: statusOf(item.statusRank) };
    },
  };
}

function itemOf(send: TrackedSend): Record<string, unknown> {
  return {
    ...keys.trackedSend(send.token, send.trackingId),
    pageId: send.pageId,
    psid: send.psid,
    topicId: send.topicId,
    campaignId: send.campaignId,
    trackingId: send.trackingId,
    sentAt: send.sentAt,
    statusRank: STATUS_RANK.sent,
    expiresAt: Math.ceil((send.sentAt + TRACKED_SEND_TTL_MS) / 1000),
    ...(send.editionDate !== undefined && { editionDate: send.editionDate }),
  };
}

async function read(
  client: DynamoDBDocumentClient,
  table: string,
  token: string,
  trackingId: string,
): Promise<TrackedItem | undefined> {
  const answer = await client.send(
    new GetCommand({ TableName: table, Key: keys.trackedSend(token, trackingId) }),
  );
  return answer.Item ? trackedItem.parse(answer.Item) : undefined;
}

/** The token's latest send of that campaign made by `at`: its partition holds a week of sends. */
async function latestBefore(
  client: DynamoDBDocumentClient,
  table: string,
  ref: Extract<SendRef, { campaignId: string }>,
  now: number,
): Promise<TrackedItem | undefined> {
  const { pk } = keys.trackedSend(ref.token, '');
  let latest: TrackedItem | undefined;
  for (const raw of await queryPartition(client, table, pk)) {
    const item = trackedItem.parse(raw);
    if (item.campaignId !== ref.campaignId || item.sentAt > ref.at + CLOCK_SKEW_MS) continue;
    if (item.expiresAt * 1000 <= now) continue;
    if (!latest || item.sentAt > latest.sentAt) latest = item;
  }
  return latest;
}

/**
 * One conditional write, no read before it: the status moves only forward (`canMove` in
 * `tracked-send.ts`) on a send kept and not expired; undefined when the condition refused.
 */
async function move(
  client: DynamoDBDocumentClient,
  table: string,
  token: string,
  trackingId: string,
  status: SendStatus,
  now: number,
): Promise<StatusMove | undefined> {
  try {
    const answer = await client.send(
      new UpdateCommand({
        TableName: table,
        Key: keys.trackedSend(token, trackingId),
        UpdateExpression: 'SET statusRank = :rank',
        // A failure only from `sent`; any other status only above the current one (failed is
        // ranked above all, so nothing moves a failed send). TTL deletion lags: check expiry.
        ConditionExpression: `attribute_exists(pk) AND expiresAt > :now AND ${
          status === 'failed' ? 'statusRank = :sent' : 'statusRank < :rank'
        }`,
        ExpressionAttributeValues: {
          ':rank': STATUS_RANK[status],
          ':now': Math.floor(now / 1000),
          ...(status === 'failed' && { ':sent': STATUS_RANK.sent }),
        },
        ReturnValues: 'ALL_OLD',
      }),
    );
    const before = trackedItem.parse(answer.Attributes);
    return { kind: 'moved', send: sendOf(before), from: statusOf(before.statusRank) };
  } catch (error: unknown) {
    if (error instanceof ConditionalCheckFailedException) return undefined;
    throw error;
  }
}

function statusOf(rank: number): SendStatus {
  return STATUS_OF_RANK.get(rank) ?? 'sent';
}

function sendOf(item: TrackedItem): Omit<TrackedSend, 'token'> {
  const { pageId, psid, topicId, campaignId, trackingId, sentAt, editionDate } = item;
  return {
    pageId,
    psid,
    topicId,
    campaignId,
    trackingId,
    sentAt,
    ...(editionDate !== undefined && { editionDate }),
  };
}
