import * as z from 'zod';
import { nextDueSlot } from '../cooldown.ts';
import { InvalidInputError } from '../errors.ts';
import { idSchema } from '../ids.ts';
import type { Page } from '../page.ts';
import { type Subscription, type SubscriptionStatus, subscriptionId } from '../subscription.ts';
import type { Cadence, Topic } from '../topic.ts';
import { type AdminRequest, parseInput, queryInt } from './input.ts';
import type { AdminCatalog, AdminSubscriptionStore, ListPosition } from './ports.ts';

/** Index pages read for one listing at most: a rare status may leave a listing short, with a cursor. */
const MAX_ROUNDS = 10;

const listQuerySchema = z.strictObject({
  pageId: idSchema('Page id'),
  topicId: idSchema('topic id').optional(),
  status: z.enum(['active', 'stopped', 'invalid', 'unreachable']).optional(),
  limit: queryInt(1, 100).default(25),
  cursor: z.string().min(1, 'must not be empty').optional(),
});

export type ListSubscriptionsInput = z.infer<typeof listQuerySchema>;

/** Reads `GET /admin/subscriptions?pageId=&topicId=&status=&limit=&cursor=`. */
export function parseListSubscriptions(request: AdminRequest): ListSubscriptionsInput {
  return parseInput(listQuerySchema, request.query);
}

/** A subscription as operators see it: no token, instants as ISO strings. */
export interface SubscriptionView {
  pageId: string;
  psid: string;
  topicId: string;
  status: SubscriptionStatus;
  /** The cadence it is sent on: an old token's frequency, else its topic's; null without either. */
  cadence: Cadence | null;
  timezone: string;
  /** The next slot it is due in; null when it is not due (not active, no token, no topic, paused Page). */
  nextDueAt: string | null;
  lastSentAt: string | null;
  tokenExpiresAt: string | null;
  optedInAt: string | null;
  statusReason: string | null;
}

/**
 * One page of a Page's subscriptions, optionally of one topic and one status. The cursor is
 * opaque: the base64url JSON of where the index read stopped.
 */
export async function listSubscriptions(
  input: ListSubscriptionsInput,
  deps: { catalog: AdminCatalog; pageIndex: AdminSubscriptionStore; clock: { now(): number } },
): Promise<{ items: SubscriptionView[]; cursor: string | null }> {
  let startAfter =
    input.cursor === undefined
      ? undefined
      : deps.pageIndex.checkPosition(decodeCursor(input.cursor), {
          pageId: input.pageId,
          ...(input.topicId !== undefined && { topicId: input.topicId }),
        });
  const [page, topics] = await Promise.all([
    deps.catalog.getPage(input.pageId),
    deps.catalog.listTopics(input.pageId),
  ]);
  const topicById = new Map(topics.map((topic) => [topic.topicId, topic]));
  const items: SubscriptionView[] = [];
  // Each read asks only for the items still missing, so a page never overshoots the limit and
  // the index's own stopping point is the cursor.
  let next: ListPosition | undefined = startAfter;
  for (let round = 0; round < MAX_ROUNDS && items.length < input.limit; round++) {
    const listed = await deps.pageIndex.listKeys({
      pageId: input.pageId,
      limit: input.limit - items.length,
      ...(input.topicId !== undefined && { topicId: input.topicId }),
      ...(startAfter && { startAfter }),
    });
    next = listed.next;
    const found = new Map(
      (await deps.pageIndex.getIndexed(listed.keys)).map((item) => [
        subscriptionId(item.subscription),
        item.subscription,
      ]),
    );
    for (const key of listed.keys) {
      const subscription = found.get(subscriptionId(key));
      if (!subscription || (input.status && subscription.status !== input.status)) continue;
      items.push(
        subscriptionView(subscription, page, topicById.get(subscription.topicId), deps.clock.now()),
      );
    }
    if (!next) break;
    startAfter = next;
  }
  return { items, cursor: next ? encodeCursor(next) : null };
}

/** The operator's view of one subscription at `now`. */
export function subscriptionView(
  subscription: Subscription,
  page: Page | undefined,
  topic: Topic | undefined,
  now: number,
): SubscriptionView {
  const iso = (instant: number | undefined) =>
    instant === undefined ? null : new Date(instant).toISOString();
  return {
    pageId: subscription.pageId,
    psid: subscription.psid,
    topicId: subscription.topicId,
    status: subscription.status,
    cadence: subscription.frequency ?? topic?.cadence ?? null,
    timezone: subscription.timezone,
    nextDueAt: iso(nextDueAt(subscription, page, topic, now)),
    lastSentAt: iso(subscription.lastSentAt),
    tokenExpiresAt: iso(subscription.tokenExpiresAt),
    optedInAt: iso(subscription.optedInAt),
    statusReason: subscription.statusReason ?? null,
  };
}

function nextDueAt(
  subscription: Subscription,
  page: Page | undefined,
  topic: Topic | undefined,
  now: number,
): number | undefined {
  if (subscription.status !== 'active' || subscription.token === undefined) return undefined;
  if (!topic || !page || page.status !== 'active') return undefined;
  try {
    return nextDueSlot({
      rule: {
        cadence: subscription.frequency ?? topic.cadence,
        sendTime: topic.sendTime,
        ...(topic.weekday !== undefined && { weekday: topic.weekday }),
        ...(topic.dayOfMonth !== undefined && { dayOfMonth: topic.dayOfMonth }),
      },
      zone: subscription.timezone,
      route: page.deliveryRoute,
      pageZone: page.timezone,
      now,
      ...(subscription.frequency !== undefined && { frequency: subscription.frequency }),
      ...(subscription.lastSlot !== undefined && { lastSlot: subscription.lastSlot }),
      ...(subscription.activeSince !== undefined && { activeSince: subscription.activeSince }),
      ...(subscription.tokenExpiresAt !== undefined && {
        tokenExpiresAt: subscription.tokenExpiresAt,
      }),
    });
  } catch {
    // A zone or rule the slot calendar cannot use: the fan-out skips it too.
    return undefined;
  }
}

/** base64url JSON of a listing position. */
export function encodeCursor(position: ListPosition): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

/** The position in a cursor, or an InvalidInputError naming the cursor. */
export function decodeCursor(cursor: string): unknown {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw new InvalidInputError('cursor: not a cursor this API returned');
  }
  try {
    return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidInputError('cursor: not a cursor this API returned');
  }
}
