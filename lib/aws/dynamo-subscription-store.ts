import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { DuePlacement } from '../domain/due-placement.ts';
import type { PersonKey, SaveOutcome, SubscriptionStore } from '../domain/ports.ts';
import type { Subscription, SubscriptionKey, SubscriptionStatus } from '../domain/subscription.ts';
import { cadenceSchema } from '../domain/topic.ts';
import { newestClaim } from './claim-attributes.ts';
import { batchGet, batchWrite } from './dynamo-batch.ts';
import { updateIfCondition } from './dynamo-conditional.ts';
import { queryPartition } from './dynamo-query.ts';
import { duePartitionOf, keys, subscriptionKeyOf, topicZoneEntry } from './keys.ts';
import { TABLE } from './table-definition.ts';

const subscriptionItem = z.object({
  pageId: z.string(),
  psid: z.string(),
  topicId: z.string(),
  status: z.enum(['active', 'stopped', 'invalid', 'unreachable']),
  token: z.string().optional(),
  title: z.string().optional(),
  frequency: cadenceSchema.optional(),
  timezone: z.string(),
  timezoneAt: z.number().optional(),
  tokenExpiresAt: z.number().optional(),
  tokenStatus: z.string().optional(),
  lastEventAt: z.number(),
  activeSince: z.number().optional(),
  optedInAt: z.number().optional(),
  statusReason: z.string().optional(),
  lastSlot: z.number().optional(),
  lastSentAt: z.number().optional(),
  claimedSlot: z.number().optional(),
  claimedSentAt: z.number().optional(),
  claimedBy: z.string().optional(),
  cappedUntil: z.number().optional(),
  missingSince: z.number().optional(),
  version: z.number().optional(),
});

/** The fields a Meta event decides; the sender's claim pairs are never among them. */
const EVENT_FIELDS = [
  'pageId',
  'psid',
  'topicId',
  'status',
  'token',
  'title',
  'frequency',
  'timezone',
  'timezoneAt',
  'tokenExpiresAt',
  'tokenStatus',
  'lastEventAt',
  'activeSince',
  'optedInAt',
  'statusReason',
] as const satisfies readonly (keyof Subscription)[];

/**
 * Reads a stored subscription item; throws if it is not one. Its `lastSlot`/`lastSentAt` are
 * the newer of the two routes' claim pairs (`claim-attributes.ts`).
 */
export function toSubscription(item: Record<string, unknown>): Subscription {
  const { claimedSlot, claimedSentAt, lastSlot, lastSentAt, ...subscription } =
    subscriptionItem.parse(item);
  return {
    ...subscription,
    ...newestClaim({ lastSlot, lastSentAt, claimedSlot, claimedSentAt }),
  };
}

const { dueIndex } = TABLE;

/** Subscriptions, their due-index keys, topic zones and the token directory. */
export function dynamoSubscriptionStore(
  client: DynamoDBDocumentClient,
  table: string,
): SubscriptionStore {
  return {
    async getMany(subscriptionKeys) {
      const items = await batchGet(client, table, subscriptionKeys.map(keys.subscription));
      return items.map(toSubscription);
    },
    saveFromEvent: (next, placement, previous) =>
      saveFromEvent(client, table, next, placement, previous),
    markStatus: async (key, status, reason) => {
      await markStatus(client, table, key, status, reason);
    },
    markHolders: async (person, token, status, reason) => {
      const holders = await holdersOf(client, table, person, token);
      const marked = await Promise.all(
        holders.map((key) => markStatus(client, table, key, status, reason, token)),
      );
      return marked.filter(Boolean).length;
    },
    capHolders: async (person, token, until) => {
      const holders = await holdersOf(client, table, person, token);
      const capped = await Promise.all(
        holders.map((key) => capUntil(client, table, key, token, until)),
      );
      return capped.filter(Boolean).length;
    },
    addTopicZones: (pageId, topicId, zones) => addTopicZones(client, table, pageId, topicId, zones),
    rememberTokens: (entries) => rememberTokens(client, table, entries),
    findByToken: (token) => findByToken(client, table, token),
  };
}

/** One UpdateItem of the event's fields, the page index and the due-index keys, on the version. */
async function saveFromEvent(
  client: DynamoDBDocumentClient,
  table: string,
  next: Subscription,
  placement: DuePlacement | undefined,
  previous: Subscription | undefined,
): Promise<SaveOutcome> {
  const names: Record<string, string> = { '#version': 'version' };
  const values: Record<string, unknown> = { ':next': (previous?.version ?? 0) + 1 };
  const sets = ['#version = :next'];
  const removes: string[] = [];
  for (const field of EVENT_FIELDS) {
    names[`#${field}`] = field;
    const value = next[field];
    if (value === undefined) removes.push(`#${field}`);
    else {
      sets.push(`#${field} = :${field}`);
      values[`:${field}`] = value;
    }
  }
  names['#subPage'] = TABLE.pageIndex.partitionKey;
  names['#subSort'] = TABLE.pageIndex.sortKey;
  sets.push('#subPage = :subPage', '#subSort = :subSort');
  values[':subPage'] = next.pageId;
  values[':subSort'] = keys.pageIndexSort(next);
  names['#duePk'] = dueIndex.partitionKey;
  names['#dueSk'] = dueIndex.sortKey;
  if (placement) {
    sets.push('#duePk = :duePk', '#dueSk = :dueSk');
    values[':duePk'] = duePartitionOf(next, placement);
    values[':dueSk'] = next.psid;
  } else {
    removes.push('#duePk', '#dueSk');
  }
  let condition = 'attribute_not_exists(pk)';
  if (previous) {
    condition = '#version = :previous';
    values[':previous'] = previous.version ?? 0;
  }
  try {
    await client.send(
      new UpdateCommand({
        TableName: table,
        Key: keys.subscription(next),
        UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
    return 'saved';
  } catch (error: unknown) {
    if (error instanceof ConditionalCheckFailedException) return 'conflict';
    throw error;
  }
}

async function markStatus(
  client: DynamoDBDocumentClient,
  table: string,
  key: SubscriptionKey,
  status: SubscriptionStatus,
  reason: string,
  /** When given, only while the subscription still holds this token. */
  token?: string,
): Promise<boolean> {
  // False when erased meanwhile, or a new opt-in gave it another token: nothing to mark.
  return updateIfCondition(
    client,
    new UpdateCommand({
      TableName: table,
      Key: keys.subscription(key),
      UpdateExpression:
        'SET #status = :status, statusReason = :reason ADD #version :one REMOVE #duePk, #dueSk',
      ConditionExpression:
        token === undefined ? 'attribute_exists(pk)' : 'attribute_exists(pk) AND #token = :token',
      ExpressionAttributeNames: {
        ...(token !== undefined && { '#token': 'token' }),
        '#status': 'status',
        '#version': 'version',
        '#duePk': dueIndex.partitionKey,
        '#dueSk': dueIndex.sortKey,
      },
      ExpressionAttributeValues: {
        ':status': status,
        ':reason': reason,
        ':one': 1,
        ...(token !== undefined && { ':token': token }),
      },
    }),
  );
}

/** Keeps a subscription from sends until `until` (Meta's frequency cap), never shortening one. */
async function capUntil(
  client: DynamoDBDocumentClient,
  table: string,
  key: SubscriptionKey,
  token: string,
  until: number,
): Promise<boolean> {
  return updateIfCondition(
    client,
    new UpdateCommand({
      TableName: table,
      Key: keys.subscription(key),
      UpdateExpression: 'SET cappedUntil = :until ADD #version :one',
      // Still this token's, and never a shorter cap over a longer one.
      ConditionExpression:
        '#token = :token AND (attribute_not_exists(cappedUntil) OR cappedUntil < :until)',
      ExpressionAttributeNames: { '#version': 'version', '#token': 'token' },
      ExpressionAttributeValues: { ':until': until, ':token': token, ':one': 1 },
    }),
  );
}

/** The person's subscriptions (their one partition) that hold `token`. */
async function holdersOf(
  client: DynamoDBDocumentClient,
  table: string,
  { pageId, psid }: PersonKey,
  token: string,
): Promise<SubscriptionKey[]> {
  const partition = keys.subscription({ pageId, psid, topicId: '' }).pk;
  const items = await queryPartition(client, table, partition);
  return items.flatMap((item) => {
    const key = subscriptionKeyOf(pageId, { pk: String(item.pk), sk: String(item.sk) });
    return key !== undefined && item.token === token ? [key] : [];
  });
}

async function addTopicZones(
  client: DynamoDBDocumentClient,
  table: string,
  pageId: string,
  topicId: string,
  zones: readonly DuePlacement[],
): Promise<void> {
  if (zones.length === 0) return;
  await client.send(
    new UpdateCommand({
      TableName: table,
      Key: keys.topicZones(pageId, topicId),
      UpdateExpression: 'ADD zones :zones SET pageId = :pageId, topicId = :topicId',
      ExpressionAttributeValues: {
        ':zones': new Set(zones.map(topicZoneEntry)),
        ':pageId': pageId,
        ':topicId': topicId,
      },
    }),
  );
}

async function rememberTokens(
  client: DynamoDBDocumentClient,
  table: string,
  entries: readonly { token: string; key: SubscriptionKey }[],
): Promise<void> {
  // One item per token: an MM token is per person and Page (META_PLATFORM.md section 4.1),
  // so several subscriptions may name it, and a BatchWrite refuses a key twice. The last
  // entry wins, as the last of several puts would.
  const byToken = new Map(entries.map((entry) => [entry.token, entry]));
  await batchWrite(
    client,
    table,
    [...byToken.values()].map(({ token, key }) => ({
      PutRequest: {
        Item: {
          ...keys.token(token),
          pageId: key.pageId,
          psid: key.psid,
          topicId: key.topicId,
        },
      },
    })),
  );
}

async function findByToken(
  client: DynamoDBDocumentClient,
  table: string,
  token: string,
): Promise<SubscriptionKey | undefined> {
  const answer = await client.send(new GetCommand({ TableName: table, Key: keys.token(token) }));
  if (!answer.Item) return undefined;
  const { pageId, psid, topicId } = z
    .object({ pageId: z.string(), psid: z.string(), topicId: z.string() })
    .parse(answer.Item);
  return { pageId, psid, topicId } satisfies SubscriptionKey;
}
