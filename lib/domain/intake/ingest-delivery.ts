import type { Clock } from '../../clock.ts';
import { mapWithConcurrency } from '../../concurrency.ts';
import type { Log } from '../../log.ts';
import { duePlacement, saveZoneFirst, topicZoneRecorder } from '../due-placement.ts';
import type { Page } from '../page.ts';
import type {
  Catalog,
  ContactStore,
  EventArchive,
  StatsStore,
  SubscriptionStore,
} from '../ports.ts';
import { type ConversationCounter, organicCounts } from '../safety/conversation-counts.ts';
import {
  applyPolicyEvents,
  type PagePolicyStore,
  type PolicyEvent,
} from '../safety/page-policy.ts';
import { type TopicSafetyStore, watchStops } from '../safety/watch-topics.ts';
import { createStatsTally, logStatsLine } from '../stats.ts';
import {
  type AppliedEvent,
  applyEvent,
  type Subscription,
  type SubscriptionEvent,
  type SubscriptionKey,
  subscriptionId,
} from '../subscription.ts';
import type { Topic } from '../topic.ts';
import type { TrackedSendStore } from '../tracked-send.ts';
import { applyMarketingStatuses } from './apply-marketing-statuses.ts';
import { parseDelivery, type WebhookEvent } from './meta-webhook.ts';

/** When the webhook last took a signed delivery per Page: what `doctor` reads. */
export interface DeliveryLog {
  /** Records that a signed delivery for these Pages arrived at `at`; may skip frequent repeats. */
  recordDelivery(pageIds: readonly string[], at: number): Promise<void>;
}

export interface IngestDeps {
  archive: EventArchive;
  deliveries: DeliveryLog;
  catalog: Catalog;
  subscriptions: SubscriptionStore;
  contacts: ContactStore;
  stats: StatsStore;
  /** The MM sends status webhooks are joined to. */
  tracked: TrackedSendStore;
  /** The stop-spike breaker, fed with the stops of each delivery; none: no topic is watched. */
  safety?: TopicSafetyStore;
  /** Where Meta's policy enforcement events pause a Page; none: they are only parsed. */
  policies?: PagePolicyStore;
  /** Where people's messages are counted for the frequency-cap forecast; none: not counted. */
  conversations?: ConversationCounter;
  clock: Clock;
  log: Log;
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

/**
 * Archives a delivery (unless it only reports statuses: `needsArchive`), then applies every
 * event in it. A delivery archived and applied before is a duplicate; one archived but not applied (a crash, a failed write) is applied
 * again, which is safe because applying an event twice changes nothing.
 */
export async function ingestDelivery(delivery: Delivery, deps: IngestDeps): Promise<IngestResult> {
  const parsed = parseDelivery(delivery.body);
  const receivedAt = deps.clock.now();
  const archived = needsArchive(parsed.events, parsed.ignored);
  const previously = archived
    ? await deps.archive.archive({ hash: delivery.hash, body: delivery.body, receivedAt })
    : 'new';
  if (previously === 'applied') {
    await recordDelivery(parsed.events, receivedAt, deps);
    return { duplicate: true, applied: 0, ignored: 0 };
  }
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
  if (deps.policies)
    await applyPolicyEvents(parsed.events.filter(isPolicyEvent), {
      ...deps,
      policies: deps.policies,
    });
  await deps.stats.add(tally.increments());
  // Metric filters on this line feed the dashboard's daily opt-ins, stops and resumes.
  logStatsLine(deps.log, tally.totals(), 'webhook');
  if (deps.safety) await watchStops(tally.increments(), { ...deps, safety: deps.safety });
  if (archived) await deps.archive.markApplied(delivery.hash);
  await recordDelivery(parsed.events, receivedAt, deps);
  return { duplicate: false, applied: parsed.events.length, ignored: parsed.ignored.length };
}

/**
 * Whether a delivery's raw body is archived: not when it only reports marketing statuses
 * (sent, delivered, read, clicked), which change no subscription and are applied again
 * harmlessly (a status only ever moves forward, and only a move is counted). A failure may
 * mark a token dead, and an empty or unknown delivery is kept for whoever reads it later.
 */
export function needsArchive(events: readonly WebhookEvent[], ignored: readonly string[]): boolean {
  if (events.length === 0 || ignored.length > 0) return true;
  return events.some((event) => event.kind !== 'marketing-status' || event.status === 'failed');
}

/** Best effort: a delivery applied is not failed (and retried by Meta) for its health record. */
async function recordDelivery(
  events: readonly WebhookEvent[],
  at: number,
  deps: Pick<IngestDeps, 'deliveries' | 'log'>,
): Promise<void> {
  const pageIds = [...new Set(events.map((event) => event.pageId))];
  if (pageIds.length === 0) return;
  try {
    await deps.deliveries.recordDelivery(pageIds, at);
  } catch (error: unknown) {
    deps.log.warn('webhook delivery not recorded', {
      error: error instanceof Error ? error.name : String(error),
    });
  }
}

function isPolicyEvent(event: WebhookEvent): event is PolicyEvent {
  return event.kind === 'policy';
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
  deps: Pick<IngestDeps, 'catalog' | 'subscriptions'>,
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
  const recordZone = topicZoneRecorder(deps.subscriptions);
  const tokens: { token: string; key: SubscriptionKey }[] = [];
  await mapWithConcurrency([...groups.values()], CONCURRENCY, async (group) => {
    const key = keyOf(group[0] as SubscriptionEvent);
    const ordered = [...group].sort((a, b) => a.timestamp - b.timestamp);
    const saved = await saveZoneFirst(
      current.get(subscriptionId(key)),
      {
        plan: async (state) => {
          const folded = foldEvents(state, ordered, await lookups.page(key.pageId));
          const next = folded.next;
          if (!next) return undefined;
          const placement = duePlacement(next, await lookups.topic(key.pageId, key.topicId));
          const save = () => deps.subscriptions.saveFromEvent(next, placement, state);
          return { placement, save, next, changes: folded.changes, previous: state };
        },
        recordZone: (placement) => recordZone(key.pageId, key.topicId, placement),
        reread: async () => (await deps.subscriptions.getMany([key]))[0],
      },
      `subscription ${subscriptionId(key)} kept changing while being updated`,
    );
    if (!saved) return;
    for (const { change, at } of saved.changes) {
      tally.count(key.pageId, key.topicId, at, `${change}s`);
    }
    if (saved.next.token !== undefined && saved.next.token !== saved.previous?.token) {
      tokens.push({ token: saved.next.token, key });
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

/** Reads each Page and topic once per delivery. */
function catalogLookups(deps: Pick<IngestDeps, 'catalog'>) {
  const pages = new Map<string, Promise<Page | undefined>>();
  const topics = new Map<string, Promise<Topic | undefined>>();
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
  await Promise.all([
    mapWithConcurrency([...latest.values()], CONCURRENCY, ({ pageId, psid, at }) =>
      deps.contacts.recordInbound(pageId, psid, at),
    ),
    // Counted once per message id, so a delivery applied again counts nothing twice.
    deps.conversations?.add(
      organicCounts(events.flatMap((event) => (event.kind === 'inbound' ? [event] : []))),
    ),
  ]);
}
