import * as z from 'zod';
import type { Clock } from '../../clock.ts';
import { mapWithConcurrency } from '../../concurrency.ts';
import type { Log } from '../../log.ts';
import { effectiveCadence } from '../cooldown.ts';
import {
  type DuePlacement,
  type DueWrite,
  duePlacement,
  saveZoneFirst,
  topicZoneRecorder,
} from '../due-placement.ts';
import { whenNoEditionSchema } from '../editions/edition.ts';
import { RefusedError } from '../errors.ts';
import { idSchema } from '../ids.ts';
import { assertSendableMessage } from '../message-rules.ts';
import { sendApiMessageSchema } from '../message-schema.ts';
import type { DeliveryRoute } from '../page.ts';
import type { SubscriptionStore } from '../ports.ts';
import { quietHoursSchema } from '../safety/quiet-hours.ts';
import { refuseQuietSendTime } from '../safety/quiet-hours-check.ts';
import { keptBreakerState, stopThresholdOf } from '../safety/stop-spike.ts';
import { UNMATCHED_TOPIC } from '../stats.ts';
import { subscriptionId } from '../subscription.ts';
import {
  cadenceSchema,
  compareTopicPriority,
  TOPIC_PRIORITY_MAX,
  TOPIC_PRIORITY_MIN,
  type Topic,
  topicPriority,
} from '../topic.ts';
import { assertContentUrl, type ContentSources, contentSecretFor } from './content-secret.ts';
import { type AdminRequest, bodyObject, parseInput } from './input.ts';
import { requirePage } from './pages.ts';
import type { AdminCatalog, AdminSubscriptionStore, IndexedSubscription } from './ports.ts';

/** The Send API message schema, in the shared model since the fan-out checks messages too. */
export { sendApiMessageSchema };

/** Meta's limit on an opt-in template's title (META_PLATFORM.md section 2). */
export const TITLE_MAX_CHARS = 65;
/** Placement stops while this much of the invocation is left, and says it is incomplete. */
const PLACEMENT_RESERVE_MS = 5_000;

const topicBodySchema = z
  .strictObject({
    pageId: idSchema('Page id'),
    title: z
      .string()
      .trim()
      .min(1, 'must not be empty')
      .refine(
        (title) => [...title].length <= TITLE_MAX_CHARS,
        `at most ${TITLE_MAX_CHARS} characters (Meta's limit)`,
      ),
    cadence: cadenceSchema,
    sendTime: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:mm, 00:00 to 23:59'),
    weekday: z.number().int().min(1, 'must be 1 (Monday) to 7').max(7, 'must be 1 to 7').optional(),
    dayOfMonth: z.number().int().min(1, 'must be 1 to 28').max(28, 'must be 1 to 28').optional(),
    message: sendApiMessageSchema,
    priority: z
      .number({
        error: `must be a whole number from ${TOPIC_PRIORITY_MIN} to ${TOPIC_PRIORITY_MAX}`,
      })
      .int(`must be a whole number from ${TOPIC_PRIORITY_MIN} to ${TOPIC_PRIORITY_MAX}`)
      .min(TOPIC_PRIORITY_MIN, `must be ${TOPIC_PRIORITY_MIN} to ${TOPIC_PRIORITY_MAX}`)
      .max(TOPIC_PRIORITY_MAX, `must be ${TOPIC_PRIORITY_MIN} to ${TOPIC_PRIORITY_MAX}`)
      .optional(),
    whenNoEdition: whenNoEditionSchema.optional(),
    stopThreshold: z
      .number({ error: 'must be a percentage from 0 to 100' })
      .min(0, 'must be a percentage from 0 to 100')
      .max(100, 'must be a percentage from 0 to 100')
      .optional(),
    quietHours: quietHoursSchema.optional(),
    contentUrl: z.string({ error: 'must be a URL' }).optional(),
  })
  .superRefine((body, context) => {
    if (body.weekday !== undefined && body.cadence !== 'WEEKLY') {
      context.addIssue({ code: 'custom', path: ['weekday'], message: 'only for WEEKLY topics' });
    }
    if (body.dayOfMonth !== undefined && body.cadence !== 'MONTHLY') {
      context.addIssue({
        code: 'custom',
        path: ['dayOfMonth'],
        message: 'only for MONTHLY topics',
      });
    }
  });

/** A topic an operator saves, and whether to index its subscriptions again in any case. */
export interface PutTopicInput {
  topic: Topic;
  reindex: boolean;
}

/** Reads `PUT /admin/topics/{topicId}[?reindex=true]`. */
export function parsePutTopic(request: AdminRequest): PutTopicInput {
  const { topicId } = parseInput(
    z.object({
      topicId: idSchema('topic id').refine((id) => id !== UNMATCHED_TOPIC, {
        message: `${UNMATCHED_TOPIC} is reserved: it counts status webhooks no send joins`,
      }),
    }),
    request.params,
  );
  const { reindex } = parseInput(
    z.strictObject({ reindex: z.enum(['true', 'false']).optional() }),
    request.query,
  );
  const { message, ...fields } = parseInput(topicBodySchema, bodyObject(request.body));
  return { topic: { topicId, ...fields, message: { ...message } }, reindex: reindex === 'true' };
}

/**
 * A topic as the admin API shows it: how often people really receive it, its priority, and on
 * the Marketing Message route its place in the order a person's topics get their one message
 * per 12 h (1 goes first).
 */
export type TopicView = Topic & { effectiveCadence: string; priority: number; budgetRank?: number };

/** Each topic of a Page as the admin API shows it, in `topics`' order. */
export function topicViews(topics: readonly Topic[], route: DeliveryRoute): TopicView[] {
  const ranked = [...topics].sort(compareTopicPriority);
  return topics.map((topic) => ({
    ...topic,
    effectiveCadence: effectiveCadence({ rule: topic, route }).description,
    priority: topicPriority(topic),
    stopThreshold: stopThresholdOf(topic),
    ...(route === 'marketing_messages' && { budgetRank: ranked.indexOf(topic) + 1 }),
  }));
}

/** How many of a topic's subscriptions were given their due-index place. */
export interface PlacementResult {
  scanned: number;
  placed: number;
  /** False when time ran out: save the topic again with `?reindex=true` to go on. */
  complete: boolean;
}

export interface TopicDeps {
  catalog: AdminCatalog;
  /** When a new topic was first saved: older topics go first among equals. */
  clock: Clock;
  pageIndex: AdminSubscriptionStore;
  subscriptions: Pick<SubscriptionStore, 'addTopicZones'>;
  log: Log;
  /** Where content source secrets are kept and which URLs are allowed; no `contentUrl` without. */
  contentSources?: ContentSources;
}

/**
 * Creates or replaces a topic of a registered Page. A new topic, or one whose cadence changed,
 * puts its subscriptions where the fan-out finds them (subscriptions that opted in before the
 * topic existed wait outside the due index).
 */
export async function putTopic(
  input: PutTopicInput,
  deps: TopicDeps,
  timeLeft: () => number,
): Promise<{
  created: boolean;
  topic: TopicView;
  placement?: PlacementResult;
  contentSecret?: string;
}> {
  const page = await requirePage(deps.catalog, input.topic.pageId);
  assertSendableMessage(input.topic.message, page.deliveryRoute);
  assertContentUrl(input.topic, deps.contentSources);
  const topics = await deps.catalog.listTopics(input.topic.pageId);
  const stored = topics.find((candidate) => candidate.topicId === input.topic.topicId);
  const topic: Topic = {
    ...input.topic,
    createdAt: stored?.createdAt ?? deps.clock.now(),
    // A put that names no priority keeps the stored one (a CLI `topics put` from a file).
    ...(input.topic.priority === undefined &&
      stored?.priority !== undefined && { priority: stored.priority }),
  };
  // The stop-spike breaker's pause survives an operator's save: only a resume lifts it.
  Object.assign(topic, keptBreakerState(stored));
  refuseQuietSendTime(page, topic);
  // Meta's 7-day limit and its token list know a topic by title only: titles must be unique.
  const namesake = topics.find(
    (candidate) => candidate.topicId !== topic.topicId && candidate.title === topic.title,
  );
  if (namesake) {
    throw new RefusedError(
      `title: topic ${namesake.topicId} of Page ${topic.pageId} already has the title ${JSON.stringify(topic.title)}`,
      'title_taken',
    );
  }
  const contentSecret = await contentSecretFor(topic, stored, deps);
  await deps.catalog.putTopic(topic);
  const secretOnce = contentSecret === undefined ? {} : { contentSecret };
  const others = topics.filter((candidate) => candidate.topicId !== topic.topicId);
  const [view] = topicViews([topic, ...others], page.deliveryRoute);
  if (!view) throw new Error('a saved topic has no view');
  if (stored && stored.cadence === topic.cadence && !input.reindex) {
    return { created: false, topic: view, ...secretOnce };
  }
  const placement = await placeTopicSubscriptions(topic, deps, timeLeft);
  return { created: stored === undefined, topic: view, placement, ...secretOnce };
}

/** Reads `GET /admin/topics?pageId=`. */
export function parseListTopics(request: AdminRequest): { pageId: string } {
  return parseInput(z.strictObject({ pageId: idSchema('Page id') }), request.query);
}

/** The topics of a registered Page. */
export async function listTopics(
  { pageId }: { pageId: string },
  deps: { catalog: AdminCatalog },
): Promise<{ items: TopicView[] }> {
  const page = await requirePage(deps.catalog, pageId);
  const topics = await deps.catalog.listTopics(pageId);
  return {
    items: topicViews(
      topics.sort((a, b) => (a.topicId < b.topicId ? -1 : 1)),
      page.deliveryRoute,
    ),
  };
}

/**
 * Gives each active subscription of the topic its due-index partition. Every write is
 * conditional on the version read, and retried on a conflict with the fresh item, so a
 * webhook write in between is never overwritten.
 */
export async function placeTopicSubscriptions(
  topic: Topic,
  deps: Omit<TopicDeps, 'catalog'>,
  timeLeft: () => number,
): Promise<PlacementResult> {
  const result: PlacementResult = { scanned: 0, placed: 0, complete: true };
  const recordZone = topicZoneRecorder(deps.subscriptions);
  const placeOne = async (first: IndexedSubscription) => {
    const { pageId, topicId, psid } = first.subscription;
    const saved = await saveZoneFirst<IndexedSubscription | undefined, DueWrite>(
      first,
      {
        plan: async (item) => {
          const placement = item && duePlacement(item.subscription, topic);
          if (!item || !placement || samePlacement(placement, item.placement)) return undefined;
          const { subscription } = item;
          return {
            placement,
            save: () => deps.pageIndex.placeDue(subscription, placement, subscription.version),
          };
        },
        recordZone: (placement) => recordZone(pageId, topicId, placement),
        reread: async () => (await deps.pageIndex.getIndexed([{ pageId, topicId, psid }]))[0],
      },
      `subscription ${subscriptionId(first.subscription)} kept changing while being indexed`,
    );
    if (saved) result.placed++;
  };

  let startAfter: Readonly<Record<string, string>> | undefined;
  for (;;) {
    const listed = await deps.pageIndex.listKeys({
      pageId: topic.pageId,
      topicId: topic.topicId,
      limit: 100,
      ...(startAfter && { startAfter }),
    });
    result.scanned += listed.keys.length;
    const items = await deps.pageIndex.getIndexed(listed.keys);
    await mapWithConcurrency(items, 16, placeOne);
    startAfter = listed.next;
    if (!startAfter) break;
    if (timeLeft() < PLACEMENT_RESERVE_MS) {
      result.complete = false;
      break;
    }
  }
  deps.log.info('topic subscriptions indexed', {
    pageId: topic.pageId,
    topicId: topic.topicId,
    ...result,
  });
  return result;
}

function samePlacement(a: DuePlacement, b: DuePlacement | undefined): boolean {
  return a.cadence === b?.cadence && a.zone === b.zone;
}
