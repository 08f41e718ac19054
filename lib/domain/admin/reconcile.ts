import * as z from 'zod';
import type { Clock } from '../../clock.ts';
import { mapWithConcurrency } from '../../concurrency.ts';
import type { Log } from '../../log.ts';
import { RefusedError } from '../errors.ts';
import { idSchema } from '../ids.ts';
import { applySubscriptionEvents } from '../intake/ingest-delivery.ts';
import type { Page } from '../page.ts';
import type { Catalog, StatsStore, SubscriptionStore } from '../ports.ts';
import { createStatsTally } from '../stats.ts';
import {
  applyEvent,
  type Subscription,
  type SubscriptionEvent,
  subscriptionId,
} from '../subscription.ts';
import { type AdminGraph, metaCallFailure } from './graph.ts';
import { type AdminRequest, bodyObject, parseInput } from './input.ts';
import { requirePage } from './pages.ts';
import type {
  AdminCatalog,
  AdminSubscriptionStore,
  PendingUnsubscribes,
  ReconcileState,
  ReconcileStore,
} from './ports.ts';
import {
  planLegacyReconcile,
  planMarketingReconcile,
  type ReconcilePlan,
} from './reconcile-plan.ts';
import { type CrawlResult, crawlTokenList } from './token-list-crawl.ts';

const HOUR_MS = 3_600_000;
/** Why a subscription stopped without a word from Meta: its person left the token list. */
export const MISSING_REASON = 'missing from two complete token lists a day apart';

const reconcileParamsSchema = z.object({ pageId: idSchema('Page id') });
const reconcileBodySchema = z.strictObject({});

export interface ReconcileInput {
  pageId: string;
  /** When the list is taken: a scheduled run's time; now when absent. */
  listedAt?: number;
}

/** Reads `POST /admin/pages/{pageId}/reconcile` (body optional, and empty). */
export function parseReconcile(request: AdminRequest): ReconcileInput {
  const { pageId } = parseInput(reconcileParamsSchema, request.params);
  parseInput(reconcileBodySchema, bodyObject(request.body));
  return { pageId };
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
  /** People Recurrent did not know who joined the Page's `defaultTopicId`. */
  joined: number;
  /** People Recurrent did not know, counted only (the Page has no `defaultTopicId`). */
  unknownPeople: number;
  /** Listed people whose erasure Meta has not confirmed: left out. */
  erasurePending: number;
  /** Titles Meta listed that name no topic of the Page (or more than one): legacy route. */
  unmatchedTitles: string[];
  unmatchedTokens: number;
  /** List elements that were not token nodes. */
  malformed: number;
  /** Active MM subscriptions this list missed for the first time. */
  markedMissing: number;
  /** MM subscriptions stopped: their person was missing from two complete lists a day apart. */
  stopped: number;
  /** The list was read to its end and was whole: absences counted. */
  complete: boolean;
  /** Meta's 10,000-person cap ended the list: nobody was marked missing. */
  capped: boolean;
}

export interface ReconcileDeps {
  catalog: AdminCatalog & Catalog;
  subscriptions: SubscriptionStore;
  pageIndex: AdminSubscriptionStore;
  stats: StatsStore;
  graph: AdminGraph;
  reconciles: ReconcileStore;
  pendingUnsubscribes: PendingUnsubscribes;
  clock: Clock;
  log: Log;
}

/**
 * Compares a Page's token list at Meta with what is stored. The whole list is read first; a
 * list Meta refuses or cuts short changes nothing and is retried later (the Page's state gets
 * a retry time). Listed tokens become opt-in events stamped with their creation time and go
 * through the webhook's own code, so newer local state is never overridden.
 */
export async function reconcilePage(
  input: ReconcileInput,
  deps: ReconcileDeps,
  timeLeft: () => number,
): Promise<ReconcileResult> {
  const page = await requirePage(deps.catalog, input.pageId);
  const listedAt = input.listedAt ?? deps.clock.now();
  const state = await deps.reconciles.getState(page.pageId);
  const crawl = await crawlTokenList(page, deps.graph, timeLeft);
  if (crawl.kind !== 'listed') throw await failedList(page, crawl, state, deps);
  const pending = new Set((await deps.pendingUnsubscribes.list(page.pageId)).map((p) => p.psid));
  const plan = await planFor(page, crawl, pending, listedAt, deps);
  const result: ReconcileResult = {
    scanned: crawl.tokens.length,
    added: 0,
    alreadyKnown: 0,
    keptNewer: 0,
    joined: plan.joined,
    unknownPeople: plan.unknownPeople,
    erasurePending: plan.erasurePending,
    unmatchedTitles: plan.unmatchedTitles,
    unmatchedTokens: plan.unmatchedTokens,
    malformed: crawl.malformed,
    markedMissing: 0,
    stopped: 0,
    complete: !crawl.capped,
    capped: crawl.capped,
  };
  await applyMissed(plan.events, page.timezone, deps, result);
  await applyAbsences(plan, listedAt, deps, result);
  await deps.reconciles.putState({ pageId: page.pageId, lastListedAt: listedAt, failures: 0 });
  deps.log.info('page reconciled', { pageId: page.pageId, ...result });
  return result;
}

/** The decisions of the Page's route, from the list and what is stored. */
async function planFor(
  page: Page,
  crawl: Extract<CrawlResult, { kind: 'listed' }>,
  erasurePending: ReadonlySet<string>,
  listedAt: number,
  deps: ReconcileDeps,
): Promise<ReconcilePlan> {
  if (page.deliveryRoute !== 'marketing_messages') {
    return planLegacyReconcile({
      listed: crawl.tokens,
      topics: await deps.catalog.listTopics(page.pageId),
      erasurePending,
      pageId: page.pageId,
    });
  }
  const defaultTopic =
    page.defaultTopicId === undefined
      ? undefined
      : await deps.catalog.getTopic(page.pageId, page.defaultTopicId);
  return planMarketingReconcile({
    listed: crawl.tokens,
    stored: await storedSubscriptions(page.pageId, deps.pageIndex),
    erasurePending,
    ...(defaultTopic !== undefined && { defaultTopic }),
    complete: !crawl.capped,
    listedAt,
  });
}

/** Every subscription of the Page, through the Page index (strongly consistent reads). */
async function storedSubscriptions(
  pageId: string,
  pageIndex: AdminSubscriptionStore,
): Promise<Subscription[]> {
  const stored: Subscription[] = [];
  let startAfter: Readonly<Record<string, string>> | undefined;
  do {
    const listed = await pageIndex.listKeys({
      pageId,
      limit: 1000,
      ...(startAfter && { startAfter }),
    });
    for (const item of await pageIndex.getIndexed(listed.keys)) stored.push(item.subscription);
    startAfter = listed.next;
  } while (startAfter);
  return stored;
}

/** Records the failed list on the Page's state (when to retry) and says why to the caller. */
async function failedList(
  page: Page,
  crawl: Exclude<CrawlResult, { kind: 'listed' }>,
  state: ReconcileState | undefined,
  deps: ReconcileDeps,
): Promise<Error> {
  const now = deps.clock.now();
  const failures = (state?.failures ?? 0) + 1;
  const failure = crawl.kind === 'failed' ? failureOf(crawl.failure) : { reason: crawl.reason };
  const retryAt = now + (failure.waitMs ?? backoffMs(failures));
  await deps.reconciles.putState({
    pageId: page.pageId,
    ...(state?.lastListedAt !== undefined && { lastListedAt: state.lastListedAt }),
    failures,
    retryAt,
    lastFailure: failure.reason,
  });
  deps.log.warn('token list not read to its end: nothing changed', {
    pageId: page.pageId,
    pages: crawl.pages,
    reason: failure.reason,
    retryAt: new Date(retryAt).toISOString(),
  });
  if (crawl.kind === 'failed') return metaCallFailure('token list', crawl.failure, now);
  return new RefusedError(
    `token list: could not be read to its end (${crawl.reason}); nothing changed, it is retried from ${new Date(retryAt).toISOString()}`,
    'token_list_cut',
    retryAt,
  );
}

/** A failed Graph call as a short reason and Meta's wait, when it names one. */
function failureOf(failure: Extract<CrawlResult, { kind: 'failed' }>['failure']): {
  reason: string;
  waitMs?: number;
} {
  if (failure.kind === 'unanswered') return { reason: `unanswered: ${failure.cause}` };
  const error = failure.error;
  if (!error) return { reason: `HTTP ${failure.status}` };
  return {
    reason: `Meta error ${error.code}${error.subcode === undefined ? '' : `/${error.subcode}`}`,
    ...(error.remainingMs !== undefined && { waitMs: error.remainingMs }),
  };
}

/** One hour, doubled with every failure in a row, at most a day. */
export function backoffMs(failures: number): number {
  return Math.min(HOUR_MS * 2 ** Math.max(0, failures - 1), 24 * HOUR_MS);
}

/** Applies the opt-ins the webhooks missed, counting what each one came to. */
async function applyMissed(
  events: readonly SubscriptionEvent[],
  pageZone: string,
  deps: ReconcileDeps,
  result: ReconcileResult,
): Promise<void> {
  if (events.length === 0) return;
  // One key once: a legacy list may name a person's topic twice.
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

/** Marks first absences, clears marks of people listed again, stops those missed twice. */
async function applyAbsences(
  plan: ReconcilePlan,
  listedAt: number,
  deps: ReconcileDeps,
  result: ReconcileResult,
): Promise<void> {
  const marked = await mapWithConcurrency(plan.markMissing, 8, (item) =>
    deps.reconciles.markMissing(item, listedAt, item.version),
  );
  result.markedMissing = marked.filter(Boolean).length;
  await mapWithConcurrency(plan.clearMissing, 8, (key) => deps.reconciles.clearMissing(key));
  const stopped = await mapWithConcurrency(plan.stop, 8, ({ token, ...person }) =>
    deps.subscriptions.markHolders(person, token, 'stopped', MISSING_REASON),
  );
  result.stopped = stopped.reduce((sum, count) => sum + count, 0);
}
