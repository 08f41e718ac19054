import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import type { Clock } from '../../clock.ts';
import {
  type Broadcast,
  type BroadcastCounts,
  type BroadcastKey,
  type BroadcastState,
  type BroadcastStore,
  broadcastState,
  newBroadcastId,
} from '../broadcasts/broadcast.ts';
import { checkBroadcastTiming, parseBroadcastTiming } from '../broadcasts/broadcast-timing.ts';
import { NotFoundError, RefusedError } from '../errors.ts';
import type { FanoutDeps } from '../fanout/run-fanout.ts';
import { idSchema } from '../ids.ts';
import { assertSendableMessage } from '../message-rules.ts';
import type { Page } from '../page.ts';
import type { Catalog } from '../ports.ts';
import type { Topic } from '../topic.ts';
import { type AdminRequest, bodyObject, parseInput } from './input.ts';
import { runAdminFanout } from './run-fanout-now.ts';
import { sendApiMessageSchema } from './topics.ts';

/** What the broadcast routes use. */
export interface BroadcastDeps {
  catalog: Catalog;
  broadcasts: BroadcastStore;
  /** The zones a topic has subscribers in (any cadence), as the fan-out reads them. */
  topicZones: (pageId: string, topicId: string) => Promise<string[]>;
  clock: Clock;
  /** The fan-out's ports: a broadcast sent at once is queued by a run started right away. */
  fanout?: Omit<FanoutDeps, 'timeLeft'>;
}

/** A broadcast as the admin API shows it. */
export interface BroadcastView {
  broadcastId: string;
  pageId: string;
  topicId: string;
  state: BroadcastState;
  message: Record<string, unknown>;
  date?: string;
  localTime?: string;
  now?: true;
  /** The first and last zone's instant. */
  window: { from: string; to: string };
  createdAt: string;
  startedAt?: string;
  doneAt?: string;
  cancelledAt?: string;
  counts: { sent: number; failed: number; skipped: Record<string, number> };
}

/** `POST /admin/topics/{topicId}/broadcasts`, read; the timing and message are checked by the use case. */
export interface CreateBroadcastInput {
  pageId: string;
  topicId: string;
  message: unknown;
  date?: unknown;
  localTime?: unknown;
  now?: unknown;
}

const topicPathSchema = z.object({ topicId: idSchema('topic id') });
const pageQuerySchema = z.strictObject({ pageId: idSchema('Page id') });

/** Reads `POST /admin/topics/{topicId}/broadcasts` `{pageId, message, date, localTime}` or `{pageId, message, now}`. */
export function parseCreateBroadcast(request: AdminRequest): CreateBroadcastInput {
  const { topicId } = parseInput(topicPathSchema, request.params);
  const body = parseInput(
    z.strictObject({
      pageId: idSchema('Page id'),
      message: z.unknown().nonoptional('required: a Send API message object'),
      date: z.unknown().optional(),
      localTime: z.unknown().optional(),
      now: z.unknown().optional(),
    }),
    bodyObject(request.body),
  );
  return { topicId, ...body };
}

/** Reads `GET /admin/topics/{topicId}/broadcasts?pageId=`. */
export function parseListBroadcasts(request: AdminRequest): { pageId: string; topicId: string } {
  return {
    ...parseInput(topicPathSchema, request.params),
    ...parseInput(pageQuerySchema, request.query),
  };
}

/** Reads `DELETE /admin/topics/{topicId}/broadcasts/{broadcastId}?pageId=`. */
export function parseCancelBroadcast(request: AdminRequest): BroadcastKey {
  return {
    ...parseInput(
      z.object({ topicId: idSchema('topic id'), broadcastId: idSchema('broadcast id') }),
      request.params,
    ),
    ...parseInput(pageQuerySchema, request.query),
  };
}

/**
 * Creates a broadcast: one extra message to every active subscriber of the topic at a local
 * date and time in their own zone, or at once (queued by a fan-out run started now). Refused
 * before anything is stored: an unknown or paused topic or Page, a message Meta would refuse,
 * a time past, too far ahead or inside the quiet hours.
 */
export async function createBroadcast(
  input: CreateBroadcastInput,
  deps: BroadcastDeps,
  timeLeft: () => number = () => Number.POSITIVE_INFINITY,
): Promise<{ broadcast: BroadcastView; queued?: number }> {
  const { page, topic } = await requireTopic(input, deps.catalog);
  const { message } = parseInput(z.object({ message: sendApiMessageSchema }), {
    message: input.message,
  });
  assertSendableMessage(message, page.deliveryRoute);
  const timing = parseBroadcastTiming(input);
  if (page.status === 'paused') {
    throw new RefusedError(`Page ${page.pageId} is paused: nothing is sent for it`, 'page_paused');
  }
  if (topic.paused) {
    throw new RefusedError(
      `topic ${topic.topicId} is paused by the stop-spike breaker since ${new Date(topic.paused.at).toISOString()}; resume it first`,
      'topic_paused',
    );
  }
  const now = deps.clock.now();
  const zones = await deps.topicZones(page.pageId, topic.topicId);
  const window = checkBroadcastTiming({ timing, now, page, topic, zones });
  const broadcast: Broadcast = {
    pageId: page.pageId,
    topicId: topic.topicId,
    broadcastId: newBroadcastId(now, randomUUID()),
    message: { ...message },
    timing,
    createdAt: now,
    firstAt: window.firstAt,
    lastAt: window.lastAt,
    counts: {},
  };
  await deps.broadcasts.create(broadcast);
  if (!('now' in timing) || !deps.fanout) return { broadcast: broadcastView(broadcast) };
  const run = await runAdminFanout(
    { cadence: topic.cadence },
    { fanout: deps.fanout, clock: deps.clock },
    timeLeft,
  );
  const stored = (await deps.broadcasts.get(broadcast)) ?? broadcast;
  return { broadcast: broadcastView(stored), queued: run.queued };
}

/** A topic's broadcasts with their state and counts, oldest first. */
export async function listBroadcasts(
  input: { pageId: string; topicId: string },
  deps: Pick<BroadcastDeps, 'catalog' | 'broadcasts'>,
): Promise<{ pageId: string; topicId: string; items: BroadcastView[] }> {
  await requireTopic(input, deps.catalog);
  const items = await deps.broadcasts.list(input);
  return { ...input, items: items.map(broadcastView) };
}

/** Cancels a broadcast no fan-out run has started; once started it is 409, naming when. */
export async function cancelBroadcast(
  input: BroadcastKey,
  deps: Pick<BroadcastDeps, 'catalog' | 'broadcasts' | 'clock'>,
): Promise<{ cancelled: true; broadcast: BroadcastView }> {
  await requireTopic(input, deps.catalog);
  const result = await deps.broadcasts.cancel(input, deps.clock.now());
  if (result.kind === 'missing') {
    throw new NotFoundError(`topic ${input.topicId} has no broadcast ${input.broadcastId}`);
  }
  if (result.kind === 'started') {
    throw new RefusedError(
      `broadcast ${input.broadcastId} started at ${new Date(result.startedAt).toISOString()}; a started broadcast cannot be cancelled`,
      'broadcast_started',
    );
  }
  if (result.kind === 'already-cancelled') {
    const broadcast = await deps.broadcasts.get(input);
    if (!broadcast)
      throw new NotFoundError(`topic ${input.topicId} has no broadcast ${input.broadcastId}`);
    return { cancelled: true, broadcast: broadcastView(broadcast) };
  }
  return { cancelled: true, broadcast: broadcastView(result.broadcast) };
}

/** The broadcast as the admin API shows it. */
export function broadcastView(broadcast: Broadcast): BroadcastView {
  const iso = (at: number) => new Date(at).toISOString();
  return {
    broadcastId: broadcast.broadcastId,
    pageId: broadcast.pageId,
    topicId: broadcast.topicId,
    state: broadcastState(broadcast),
    message: broadcast.message,
    ...broadcast.timing,
    window: { from: iso(broadcast.firstAt), to: iso(broadcast.lastAt) },
    createdAt: iso(broadcast.createdAt),
    ...(broadcast.startedAt !== undefined && { startedAt: iso(broadcast.startedAt) }),
    ...(broadcast.doneAt !== undefined && { doneAt: iso(broadcast.doneAt) }),
    ...(broadcast.cancelledAt !== undefined && { cancelledAt: iso(broadcast.cancelledAt) }),
    counts: countsView(broadcast.counts),
  };
}

/** Sends, failures and skips by reason (`skipped_person_budget` shows as `person-budget`). */
function countsView(counts: BroadcastCounts): BroadcastView['counts'] {
  const skipped: Record<string, number> = {};
  for (const [name, value] of Object.entries(counts)) {
    if (name.startsWith('skipped_') && value) {
      skipped[name.slice('skipped_'.length).replaceAll('_', '-')] = value;
    }
  }
  return { sent: counts.sent ?? 0, failed: counts.failed ?? 0, skipped };
}

async function requireTopic(
  input: { pageId: string; topicId: string },
  catalog: Catalog,
): Promise<{ page: Page; topic: Topic }> {
  const page = await catalog.getPage(input.pageId);
  if (!page) throw new NotFoundError(`Page ${input.pageId} is not registered`);
  const topic = await catalog.getTopic(page.pageId, input.topicId);
  if (!topic) throw new NotFoundError(`Page ${page.pageId} has no topic ${input.topicId}`);
  return { page, topic };
}
