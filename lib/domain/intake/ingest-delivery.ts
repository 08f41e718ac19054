import type { Clock } from '../../clock.ts';
import { mapWithConcurrency } from '../../concurrency.ts';
import type { Log } from '../../log.ts';
import { metaErrorFor } from '../meta-errors.ts';
import type { Page } from '../page.ts';
import type {
  Catalog,
  ContactStore,
  EventArchive,
  StatsStore,
  SubscriptionStore,
} from '../ports.ts';
import { createStatsTally, STATS_LOG_MESSAGE } from '../stats.ts';
import {
  type AppliedEvent,
  applyEvent,
  duePlacement,
  type Subscription,
  type SubscriptionEvent,
  type SubscriptionKey,
  subscriptionId,
} from '../subscription.ts';
import type { Topic } from '../topic.ts';
import { parseDelivery, type WebhookEvent } from './meta-webhook.ts';

export interface IngestDeps {
  archive: EventArchive;
  catalog: Catalog;
  subscriptions: SubscriptionStore;
  contacts: ContactStore;
  stats: StatsStore;
  clock: Clock;
  log: Log;
  dueShards: number;
}

/** One signed webhook delivery: its text and the sha256 of its raw bytes. */
export interface Delivery {
  body: string;
  hash: string;
}

export interface IngestResult {
  duplicate: boolean;
  applied: number;
  ignored: number;
}

const CONCURRENCY = 64;
const MAX_ATTEMPTS = 8;

/**
 * Archives a delivery, then applies every event in it. A delivery archived and applied
 * before is a duplicate; one archived but not applied (a crash, a failed write) is applied
 * again, which is safe because applying an event twice changes nothing.
 */
export async function ingestDelivery(delivery: Delivery, deps: IngestDeps): Promise<IngestResult> {
  const parsed = parseDelivery(delivery.body);
  const previously = await deps.archive.archive({
    hash: delivery.hash,
    body: delivery.body,
    receivedAt: deps.clock.now(),
  });
  if (previously === 'applied') return { duplicate: true, applied: 0, ignored: 0 };
  if (parsed.ignored.length > 0) {
    deps.log.info('webhook content ignored', { object: parsed.object, ignored: parsed.ignored });
  }
  const tally = createStatsTally();
  const subscriptionEvents = parsed.events.filter(isSubscriptionEvent);
  await Promise.all([
    applySubscriptionEvents(subscriptionEvents, deps, tally),
    recordInbound(parsed.events, deps),
  ]);
  await applyMarketingStatuses(parsed.events, deps, tally);
  await deps.stats.add(tally.increments());
  const totals = tally.totals();
  // Metric filters on this line feed the dashboard's daily opt-ins, stops and resumes.
  if (Object.keys(totals).length > 0) deps.log.info(STATS_LOG_MESSAGE, totals);
  await deps.archive.markApplied(delivery.hash);
  return { duplicate: false, applied: parsed.events.length, ignored: parsed.ignored.length };
}

function isSubscriptionEvent(event: WebhookEvent): event is SubscriptionEvent {
  return event.kind === 'optin' || event.kind === 'stop' || event.kind === 'resume';
}

type Tally = ReturnType<typeof createStatsTally>;

/**
 * Applies opt-in, stop and resume events to the stored subscriptions, newest state winning
 * (a conflicting write is read again and retried), indexes them, remembers new tokens and
 * counts the changes in `tally`. The webhook's path, and the admin API's reconciliation.
 */
export async function applySubscriptionEvents(
  events: readonly SubscriptionEvent[],
  deps: Pick<IngestDeps, 'catalog' | 'subscriptions' | 'dueShards'>,
  tally: Tally,
): Promise<void> {
  if (events.length === 0) return;
  const groups = new Map<string, SubscriptionEvent[]>();
  for (const event of events) {
    const id = subscriptionId(event);
    groups.set(id, [...(groups.get(id) ?? []), event]);
  }
  const keys = [...groups.values()].map((group) => keyOf(group[0] as SubscriptionEvent));
  const current = new Map(
    (await deps.subscriptions.getMany(keys)).map((item) => [subscriptionId(item), item]),
  );
  const lookups = catalogLookups(deps);
  const tokens: { token: string; key: SubscriptionKey }[] = [];
  await mapWithConcurrency([...groups.values()], CONCURRENCY, async (group) => {
    const key = keyOf(group[0] as SubscriptionEvent);
    const ordered = [...group].sort((a, b) => a.timestamp - b.timestamp);
    let stored = current.get(subscriptionId(key));
    for (let attempt = 1; ; attempt++) {
      const page = await lookups.page(key.pageId);
      const folded = foldEvents(stored, ordered, page);
      if (!folded.next) return;
      const topic = await lookups.topic(key.pageId, key.topicId);
      const placement = duePlacement(folded.next, topic, deps.dueShards);
      // The zone is recorded before the subscription can be found through it.
      if (placement) await lookups.zone(key.pageId, key.topicId, placement.cadence, placement.zone);
      const outcome = await deps.subscriptions.saveFromEvent(folded.next, placement, stored);
      if (outcome === 'saved') {
        for (const { change, at } of folded.changes) {
          tally.count(key.pageId, key.topicId, at, `${change}s`);
        }
        if (folded.next.token !== undefined && folded.next.token !== stored?.token) {
          tokens.push({ token: folded.next.token, key });
        }
        return;
      }
      if (attempt === MAX_ATTEMPTS) {
        throw new Error(`subscription ${subscriptionId(key)} kept changing while being updated`);
      }
      [stored] = await deps.subscriptions.getMany([key]);
    }
  });
  await deps.subscriptions.rememberTokens(tokens);
}

function foldEvents(
  stored: Subscription | undefined,
  ordered: readonly SubscriptionEvent[],
  page: Page | undefined,
): { next?: Subscription; changes: { change: NonNullable<AppliedEvent['change']>; at: number }[] } {
  let next: Subscription | undefined;
  const changes: { change: NonNullable<AppliedEvent['change']>; at: number }[] = [];
  for (const event of ordered) {
    const applied = applyEvent(next ?? stored, event, page ? { pageZone: page.timezone } : {});
    if (!applied) continue;
    next = applied.next;
    if (applied.change) changes.push({ change: applied.change, at: event.timestamp });
  }
  return next ? { next, changes } : { changes };
}

function keyOf({ pageId, psid, topicId }: SubscriptionKey): SubscriptionKey {
  return { pageId, psid, topicId };
}

/** Reads each Page and topic, and writes each topic zone, once per delivery. */
function catalogLookups(deps: Pick<IngestDeps, 'catalog' | 'subscriptions'>) {
  const pages = new Map<string, Promise<Page | undefined>>();
  const topics = new Map<string, Promise<Topic | undefined>>();
  const zones = new Map<string, Promise<void>>();
  const once = <T>(cache: Map<string, Promise<T>>, id: string, load: () => Promise<T>) => {
    let value = cache.get(id);
    if (!value) {
      value = load();
      cache.set(id, value);
      value.catch(() => cache.delete(id));
    }
    return value;
  };
  return {
    page: (pageId: string) => once(pages, pageId, () => deps.catalog.getPage(pageId)),
    topic: (pageId: string, topicId: string) =>
      once(topics, `${pageId}#${topicId}`, () => deps.catalog.getTopic(pageId, topicId)),
    zone: (pageId: string, topicId: string, cadence: Topic['cadence'], zone: string) =>
      once(zones, `${pageId}#${topicId}#${cadence}#${zone}`, () =>
        deps.subscriptions.addTopicZones(pageId, topicId, [{ cadence, zone }]),
      ),
  };
}

async function recordInbound(events: readonly WebhookEvent[], deps: IngestDeps): Promise<void> {
  const latest = new Map<string, { pageId: string; psid: string; at: number }>();
  for (const event of events) {
    if (event.kind !== 'inbound') continue;
    const id = `${event.pageId}#${event.psid}`;
    const seen = latest.get(id);
    if (!seen || seen.at < event.timestamp) {
      latest.set(id, { pageId: event.pageId, psid: event.psid, at: event.timestamp });
    }
  }
  await mapWithConcurrency([...latest.values()], CONCURRENCY, ({ pageId, psid, at }) =>
    deps.contacts.recordInbound(pageId, psid, at),
  );
}

const UNKNOWN_TOPIC = '_unknown';

async function applyMarketingStatuses(
  events: readonly WebhookEvent[],
  deps: IngestDeps,
  tally: Tally,
): Promise<void> {
  const owners = new Map<string, Promise<SubscriptionKey | undefined>>();
  await mapWithConcurrency(events, CONCURRENCY, async (event) => {
    if (event.kind !== 'marketing-status') return;
    const token = event.token;
    let owner: SubscriptionKey | undefined;
    if (token !== undefined) {
      let lookup = owners.get(token);
      if (!lookup) {
        lookup = deps.subscriptions.findByToken(token);
        owners.set(token, lookup);
      }
      owner = await lookup;
    }
    tally.count(event.pageId, owner?.topicId ?? UNKNOWN_TOPIC, event.timestamp, event.status);
    if (event.status !== 'failed' || !event.error || !owner) return;
    const { outcome, subscription } = metaErrorFor(event.error);
    const reason = `marketing message delivery failed: ${event.error.code}/${event.error.subcode ?? '-'}`;
    if (subscription !== 'none') await deps.subscriptions.markStatus(owner, subscription, reason);
    else
      deps.log.warn('marketing message delivery failed', { pageId: event.pageId, outcome, reason });
  });
}
