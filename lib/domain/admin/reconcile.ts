import * as z from 'zod';
import type { Clock } from '../../clock.ts';
import type { Log } from '../../log.ts';
import { idSchema } from '../ids.ts';
import { applySubscriptionEvents } from '../intake/ingest-delivery.ts';
import type { Catalog, StatsStore, SubscriptionStore } from '../ports.ts';
import { createStatsTally } from '../stats.ts';
import { applyEvent, type SubscriptionEvent, subscriptionId } from '../subscription.ts';
import { type AdminGraph, metaCallFailure, type TokenNode } from './graph.ts';
import { type AdminRequest, bodyObject, parseInput } from './input.ts';
import { requirePage } from './pages.ts';
import type { AdminCatalog } from './ports.ts';

/** Tokens asked of Meta per page of the token list. */
const PAGE_SIZE = 100;
/** Reconciliation stops while this much of the invocation is left, with a cursor to go on. */
const RESERVE_MS = 5_000;

const reconcileParamsSchema = z.object({ pageId: idSchema('Page id') });
const reconcileBodySchema = z.strictObject({
  /** Meta's cursor from an incomplete run, to go on from there. */
  after: z.string().min(1, 'must not be empty').optional(),
});

export interface ReconcileInput {
  pageId: string;
  after?: string;
}

/** Reads `POST /admin/pages/{pageId}/reconcile` (body optional). */
export function parseReconcile(request: AdminRequest): ReconcileInput {
  const { pageId } = parseInput(reconcileParamsSchema, request.params);
  const { after } = parseInput(reconcileBodySchema, bodyObject(request.body));
  return { pageId, ...(after !== undefined && { after }) };
}

export interface ReconcileResult {
  /** Tokens Meta listed. */
  scanned: number;
  /** Tokens applied: subscriptions the webhooks missed, or tokens they lacked. */
  added: number;
  /** Tokens already stored. */
  alreadyKnown: number;
  /** Tokens older than what is stored (a newer stop or token): left as they are. */
  keptNewer: number;
  /** Titles Meta listed that name no topic of the Page (or more than one). */
  unmatchedTitles: string[];
  unmatchedTokens: number;
  /** List elements that were not token nodes. */
  malformed: number;
  /** False when time ran out: call again with `{"after": <after>}`. */
  complete: boolean;
  after: string | null;
}

export interface ReconcileDeps {
  catalog: AdminCatalog & Catalog;
  subscriptions: SubscriptionStore;
  stats: StatsStore;
  graph: AdminGraph;
  clock: Clock;
  log: Log;
}

/**
 * Adds the tokens Meta has for a Page that the webhooks missed: every listed token becomes an
 * opt-in event stamped with the token's creation time and goes through the webhook's own
 * code, so newer local state (a later stop, a newer token) is never overridden.
 */
export async function reconcilePage(
  input: ReconcileInput,
  deps: ReconcileDeps,
  timeLeft: () => number,
): Promise<ReconcileResult> {
  const page = await requirePage(deps.catalog, input.pageId);
  const topicsByTitle = new Map<string, string[]>();
  for (const topic of await deps.catalog.listTopics(page.pageId)) {
    topicsByTitle.set(topic.title, [...(topicsByTitle.get(topic.title) ?? []), topic.topicId]);
  }
  const result: ReconcileResult = {
    scanned: 0,
    added: 0,
    alreadyKnown: 0,
    keptNewer: 0,
    unmatchedTitles: [],
    unmatchedTokens: 0,
    malformed: 0,
    complete: true,
    after: null,
  };
  const unmatched = new Set<string>();
  let after = input.after;
  for (;;) {
    const listed = await deps.graph.listTokens({
      pageId: page.pageId,
      accessToken: page.accessToken,
      limit: PAGE_SIZE,
      ...(after !== undefined && { after }),
    });
    if (listed.kind !== 'ok') throw metaCallFailure('token list', listed, deps.clock.now());
    result.scanned += listed.value.tokens.length;
    result.malformed += listed.value.malformed;
    const events: SubscriptionEvent[] = [];
    for (const node of listed.value.tokens) {
      const [topicId, ...others] = topicsByTitle.get(node.title) ?? [];
      if (topicId === undefined || others.length > 0) {
        unmatched.add(node.title);
        result.unmatchedTokens++;
        continue;
      }
      events.push(optInEventOf(page.pageId, topicId, node));
    }
    await applyMissed(events, page.timezone, deps, result);
    after = listed.value.after;
    if (after === undefined) break;
    if (timeLeft() < RESERVE_MS) {
      result.complete = false;
      result.after = after;
      break;
    }
  }
  result.unmatchedTitles = [...unmatched].sort();
  deps.log.info('page reconciled', { pageId: page.pageId, ...result });
  return result;
}

/** A listed token as the opt-in webhook Meta would have sent when it was created. */
function optInEventOf(pageId: string, topicId: string, node: TokenNode): SubscriptionEvent {
  return {
    kind: 'optin',
    pageId,
    psid: node.psid,
    topicId,
    timestamp: node.createdAt,
    token: node.token,
    title: node.title,
    ...(node.timezone !== undefined && { timezone: node.timezone }),
    ...(node.expiresAt !== undefined && { tokenExpiresAt: node.expiresAt }),
    ...(node.tokenStatus !== undefined && { tokenStatus: node.tokenStatus }),
  };
}

async function applyMissed(
  events: readonly SubscriptionEvent[],
  pageZone: string,
  deps: ReconcileDeps,
  result: ReconcileResult,
): Promise<void> {
  if (events.length === 0) return;
  const keys = new Map(
    events.map(({ pageId, psid, topicId }) => [
      subscriptionId({ pageId, psid, topicId }),
      { pageId, psid, topicId },
    ]),
  );
  const stored = new Map(
    (await deps.subscriptions.getMany([...keys.values()])).map((item) => [
      subscriptionId(item),
      item,
    ]),
  );
  const missed: SubscriptionEvent[] = [];
  for (const event of events) {
    const current = stored.get(subscriptionId(event));
    if (current?.token === event.token) {
      result.alreadyKnown++;
    } else if (applyEvent(current, event, { pageZone })?.next.token === event.token) {
      result.added++;
      missed.push(event);
    } else {
      // The stored state is newer and keeps its own token.
      result.keptNewer++;
    }
  }
  const tally = createStatsTally();
  await applySubscriptionEvents(missed, deps, tally);
  await deps.stats.add(tally.increments());
}
