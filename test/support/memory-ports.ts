import { CLAIM_PAIRS, newestClaim } from '#lib/aws/claim-attributes.ts';
import type { Page } from '#lib/domain/page.ts';
import type {
  Catalog,
  PersonKey,
  StatsIncrement,
  StatsStore,
  SubscriptionStore,
} from '#lib/domain/ports.ts';
import {
  CONVERSATION_RETENTION_MS,
  type ConversationCounter,
  type ConversationHour,
  hourOf,
} from '#lib/domain/safety/conversation-counts.ts';
import type { PagePolicyStore } from '#lib/domain/safety/page-policy.ts';
import type { HourBucket } from '#lib/domain/safety/stop-spike.ts';
import type { TopicSafetyStore } from '#lib/domain/safety/watch-topics.ts';
import type { PersonBudget } from '#lib/domain/sending/person-budget.ts';
import type { JobQueue, RateLimiter, SendStore } from '#lib/domain/sending/ports.ts';
import {
  applyTake,
  type BucketState,
  planTake,
  tokenTimesAfterTake,
  type UsagePressure,
} from '#lib/domain/sending/rate-bucket.ts';
import {
  type Subscription,
  type SubscriptionKey,
  subscriptionId,
} from '#lib/domain/subscription.ts';
import type { Topic } from '#lib/domain/topic.ts';
import {
  CLOCK_SKEW_MS,
  canMove,
  type SendStatus,
  type StatusMove,
  TRACKED_SEND_TTL_MS,
  type TrackedSend,
  type TrackedSendStore,
} from '#lib/domain/tracked-send.ts';

/**
 * What the table holds, in memory, for ports that share it: every item is a copy in and a
 * copy out, as DynamoDB's would be, and every write lands in `writes`.
 */
export interface MemoryTable {
  pages: Map<string, Page>;
  topics: Map<string, Topic>;
  subscriptions: SubscriptionMap;
  /** Each person's budget per token, under `budgetId` (a given-back one is absent). */
  budgets: Map<string, PersonBudget>;
  /** Each person's conversation counts by hour, and the marks counted, under `personId`. */
  conversations: Map<
    string,
    { hours: Map<number, ConversationHour>; marks: Map<number, Set<string>> }
  >;
  /** Every write, in order: what a port changed and for whom. */
  writes: { kind: string; key: string }[];
}

/** A table holding these items. */
export function memoryTable(
  items: { pages?: Page[]; topics?: Topic[]; subscriptions?: Subscription[] } = {},
): MemoryTable {
  return {
    pages: new Map((items.pages ?? []).map((page) => [page.pageId, structuredClone(page)])),
    topics: new Map(
      (items.topics ?? []).map((topic) => [
        topicId(topic.pageId, topic.topicId),
        structuredClone(topic),
      ]),
    ),
    subscriptions: new SubscriptionMap(
      (items.subscriptions ?? []).map((item) => [subscriptionId(item), structuredClone(item)]),
    ),
    budgets: new Map(),
    conversations: new Map(),
    writes: [],
  };
}

/**
 * A subscription as the table stores it: `lastSlot`/`lastSentAt` are the pair the `due` index
 * projects (legacy claims), `claimedSlot`/`claimedSentAt` the Marketing Message claims' pair it
 * does not; readers other than the index see the newer of the two (`subscriptionView`).
 */
export type StoredSubscription = Subscription & { claimedSlot?: number; claimedSentAt?: number };

/** A stored subscription as `toSubscription` reads it: a copy, its last claim the newer pair. */
export function subscriptionView(item: StoredSubscription): Subscription {
  const { claimedSlot, claimedSentAt, lastSlot, lastSentAt, ...subscription } =
    structuredClone(item);
  return {
    ...subscription,
    ...newestClaim({ lastSlot, lastSentAt, claimedSlot, claimedSentAt }),
  };
}

/**
 * Subscriptions by id, with each person's ids beside them: reading a person's partition is then
 * a lookup, as a DynamoDB Query is, not a scan of every subscription (a year of 10,000 people in
 * the rules benchmark reads one per MM job).
 */
export class SubscriptionMap extends Map<string, StoredSubscription> {
  readonly #ofPerson = new Map<string, Set<string>>();

  // Entries are added here, not by Map's constructor, which would call `set` before the
  // index above exists.
  constructor(entries: Iterable<readonly [string, StoredSubscription]> = []) {
    super();
    for (const [id, item] of entries) this.set(id, item);
  }

  override set(id: string, item: StoredSubscription): this {
    const person = `${item.pageId}#${item.psid}`;
    const ids = this.#ofPerson.get(person) ?? new Set<string>();
    ids.add(id);
    this.#ofPerson.set(person, ids);
    return super.set(id, item);
  }

  override delete(id: string): boolean {
    const item = this.get(id);
    if (item) this.#ofPerson.get(`${item.pageId}#${item.psid}`)?.delete(id);
    return super.delete(id);
  }

  override clear(): void {
    this.#ofPerson.clear();
    super.clear();
  }

  /** The subscriptions of one person on one Page, as stored. */
  ofPerson({ pageId, psid }: PersonKey): StoredSubscription[] {
    const ids = this.#ofPerson.get(`${pageId}#${psid}`) ?? [];
    return [...ids].flatMap((id) => {
      const item = this.get(id);
      return item ? [item] : [];
    });
  }
}

/** The key of a person's budget for one token in `MemoryTable.budgets`. */
export function budgetId({ pageId, psid }: PersonKey, token: string): string {
  return `${pageId}#${psid}#${token}`;
}

function personId({ pageId, psid }: PersonKey): string {
  return `${pageId}#${psid}`;
}

function topicId(pageId: string, topicId: string): string {
  return `${pageId}#${topicId}`;
}

/** Pages and topics, as `dynamoCatalog` reads them. */
export function memoryCatalog(table: MemoryTable): Catalog {
  return {
    getPage: async (pageId) => copy(table.pages.get(pageId)),
    getTopic: async (pageId, id) => copy(table.topics.get(topicId(pageId, id))),
  };
}

/** The subscription reads and the status write the sender uses, as `dynamoSubscriptionStore` does them. */
export function memorySubscriptionStore(
  table: MemoryTable,
): Pick<SubscriptionStore, 'getMany' | 'markStatus' | 'markHolders' | 'capHolders'> {
  /** The person's subscriptions that hold `token`, as the store's Query of their partition. */
  const holdersOf = (person: PersonKey, token: string) =>
    [...table.subscriptions.values()].filter(
      (item) => item.pageId === person.pageId && item.psid === person.psid && item.token === token,
    );
  return {
    getMany: async (keys) =>
      keys.flatMap((key) => {
        const item = table.subscriptions.get(subscriptionId(key));
        return item ? [subscriptionView(item)] : [];
      }),
    async markStatus(key, status, reason) {
      const item = table.subscriptions.get(subscriptionId(key));
      // Erased meanwhile: there is nothing left to mark.
      if (!item) return;
      table.writes.push({ kind: 'markStatus', key: subscriptionId(key) });
      Object.assign(item, { status, statusReason: reason, version: (item.version ?? 0) + 1 });
    },
    async markHolders(person, token, status, reason) {
      const holders = holdersOf(person, token);
      for (const item of holders) {
        table.writes.push({ kind: 'markStatus', key: subscriptionId(item) });
        Object.assign(item, { status, statusReason: reason, version: (item.version ?? 0) + 1 });
      }
      return holders.length;
    },
    async capHolders(person, token, until) {
      // Never a shorter cap over a longer one.
      const holders = holdersOf(person, token).filter(
        (item) => item.cappedUntil === undefined || item.cappedUntil < until,
      );
      for (const item of holders) {
        table.writes.push({ kind: 'capHolders', key: subscriptionId(item) });
        Object.assign(item, { cappedUntil: until, version: (item.version ?? 0) + 1 });
      }
      return holders.length;
    },
  };
}

/** The sender's writes with the conditions of `dynamoSendStore`, clause for clause. */
export function memorySendStore(table: MemoryTable): SendStore {
  return {
    async claim(key, slot, threshold, sentAt, claimant, route) {
      const item = table.subscriptions.get(subscriptionId(key));
      // Once per slot, over both routes' pairs: the last claimed slot plus the cooldown is not
      // after this one, unless this very message claimed this slot and never finished.
      const last = item && newestClaim(item).lastSlot;
      const free =
        item !== undefined &&
        item.status === 'active' &&
        (last === undefined || last < threshold || (last === slot && item.claimedBy === claimant));
      if (!free) return { claimed: false };
      table.writes.push({ kind: 'claim', key: subscriptionId(key) });
      const before = subscriptionView(item);
      const pair = CLAIM_PAIRS[route];
      Object.assign(item, {
        [pair.slot]: slot,
        [pair.sentAt]: sentAt,
        claimedBy: claimant,
        version: (item.version ?? 0) + 1,
      });
      return { claimed: true, before };
    },

    async release(key, slot, previous, route) {
      const item = table.subscriptions.get(subscriptionId(key));
      const pair = CLAIM_PAIRS[route];
      // Only our own claim: a later slot's claim is not ours to undo.
      if (item?.[pair.slot] !== slot) return;
      table.writes.push({ kind: 'release', key: subscriptionId(key) });
      delete item[pair.slot];
      delete item[pair.sentAt];
      Object.assign(item, {
        ...(previous.lastSlot !== undefined && { [pair.slot]: previous.lastSlot }),
        ...(previous.lastSentAt !== undefined && { [pair.sentAt]: previous.lastSentAt }),
        version: (item.version ?? 0) + 1,
      });
    },

    async readPerson(person) {
      const subscriptions = table.subscriptions.ofPerson(person).map(subscriptionView);
      const tokens = new Set(subscriptions.flatMap((item) => (item.token ? [item.token] : [])));
      const budgets = [...tokens].flatMap((token) => {
        const budget = table.budgets.get(budgetId(person, token));
        return budget ? [{ token, budget: structuredClone(budget) }] : [];
      });
      const hours = table.conversations.get(personId(person))?.hours;
      const conversations = [...(hours?.values() ?? [])]
        .map((hour) => ({ ...hour }))
        .sort((a, b) => a.hour - b.hour);
      return { subscriptions, budgets, conversations };
    },

    async claimBudget(person, token, claim, freeBefore) {
      const id = budgetId(person, token);
      const current = table.budgets.get(id);
      // Never spent (or given back), last spent 12 h or more before this send, or spent by
      // this very message on this job before a crash.
      const free =
        current === undefined ||
        current.sentAt <= freeBefore ||
        (current.claimedBy === claim.claimedBy &&
          current.slot === claim.slot &&
          current.topicId === claim.topicId);
      if (!free) return { claimed: false, current: structuredClone(current) };
      table.writes.push({ kind: 'claimBudget', key: id });
      table.budgets.set(id, structuredClone(claim));
      return current ? { claimed: true, before: structuredClone(current) } : { claimed: true };
    },

    async releaseBudget(person, token, claim, previous) {
      const id = budgetId(person, token);
      const current = table.budgets.get(id);
      // Only our own claim: a later send's is not ours to undo.
      if (
        current?.claimedBy !== claim.claimedBy ||
        current.slot !== claim.slot ||
        current.topicId !== claim.topicId
      ) {
        return;
      }
      table.writes.push({ kind: 'releaseBudget', key: id });
      if (previous) table.budgets.set(id, structuredClone(previous));
      else table.budgets.delete(id);
    },

    async pausePage(pageId, reason) {
      const page = table.pages.get(pageId);
      if (!page) return;
      table.writes.push({ kind: 'pausePage', key: pageId });
      Object.assign(page, { status: 'paused', pausedReason: reason });
    },

    async holdPage(pageId, until, reason) {
      const page = table.pages.get(pageId);
      // Never shortens a hold another sender wrote until later.
      if (!page || (page.heldUntil !== undefined && page.heldUntil >= until)) return;
      table.writes.push({ kind: 'holdPage', key: pageId });
      Object.assign(page, { heldUntil: until, heldReason: reason });
    },
  };
}

/** Each Page's token bucket with the math and the conditions of `dynamoRateBucket`. */
export function memoryRateLimiter({ burst }: { burst: number }) {
  const buckets = new Map<string, BucketState>();
  const takes: { pageId: string; tokens: number; ratePerSecond: number }[] = [];
  const pressures: ({ pageId: string } & UsagePressure)[] = [];
  const limiter: RateLimiter = {
    async take({ pageId, tokens, ratePerSecond, now, maxWaitMs }) {
      takes.push({ pageId, tokens, ratePerSecond });
      const state = buckets.get(pageId) ?? {};
      const plan = planTake(state, { tokens, ratePerSecond, now, maxWaitMs, burst });
      if (plan.kind === 'refuse')
        return { granted: false, reason: plan.reason, retryAt: plan.retryAt };
      const next = applyTake(state, plan, now);
      // One process, one state: the write's condition holds unless the plan is wrong.
      if (!next) throw new Error(`a take planned on page ${pageId}'s bucket did not apply`);
      buckets.set(pageId, next);
      return { granted: true, ...tokenTimesAfterTake(next.tat ?? now, plan, tokens) };
    },
    async applyPressure(pageId, pressure) {
      pressures.push({ pageId, ...pressure });
      const state = buckets.get(pageId) ?? {};
      if (pressure.kind === 'stop') {
        buckets.set(pageId, {
          ...state,
          throttledUntil: Math.max(state.throttledUntil ?? 0, pressure.until),
        });
      } else if (pressure.kind === 'slow') {
        buckets.set(pageId, { ...state, slowFactor: pressure.factor, slowUntil: pressure.until });
      }
    },
  };
  return { limiter, buckets, takes, pressures };
}

/** The send queue as the sender sees it: the put-backs it asked for. */
export function memoryJobQueue() {
  const deferred: { handle: string; delayMs: number }[] = [];
  const queue: JobQueue = {
    defer: async (entries) => {
      deferred.push(...entries);
    },
  };
  return { queue, deferred };
}

/** Daily counters, as the batches of increments that were added. */
export function memoryStatsStore() {
  const added: StatsIncrement[][] = [];
  const stats: StatsStore = {
    add: async (increments) => {
      added.push(structuredClone([...increments]));
    },
  };
  return { stats, added };
}

/**
 * Kept MM sends, as `dynamoTrackedSends` keeps them: per token, by tracking id, expiring
 * `TRACKED_SEND_TTL_MS` after the send, each status move checked and applied at once.
 */
export function memoryTrackedSends() {
  const sends = new Map<string, TrackedSend & { status: SendStatus }>();
  const idOf = (token: string, trackingId: string) => `${token}\u0000${trackingId}`;
  const live = (send: (TrackedSend & { status: SendStatus }) | undefined, now: number) =>
    send && send.sentAt + TRACKED_SEND_TTL_MS > now ? send : undefined;
  const view = ({
    token: _token,
    status: _status,
    ...send
  }: TrackedSend & { status: SendStatus }) => structuredClone(send);
  const tracked: TrackedSendStore = {
    record: async (entries) => {
      for (const entry of entries) {
        sends.set(idOf(entry.token, entry.trackingId), {
          ...structuredClone(entry),
          status: 'sent',
        });
      }
    },
    advance: async (ref, status, now): Promise<StatusMove> => {
      let send: (TrackedSend & { status: SendStatus }) | undefined;
      if ('trackingId' in ref) {
        send = live(sends.get(idOf(ref.token, ref.trackingId)), now);
      } else {
        for (const candidate of sends.values()) {
          if (candidate.token !== ref.token || candidate.campaignId !== ref.campaignId) continue;
          if (candidate.sentAt > ref.at + CLOCK_SKEW_MS || !live(candidate, now)) continue;
          if (!send || candidate.sentAt > send.sentAt) send = candidate;
        }
      }
      if (!send) return { kind: 'unmatched' };
      if (!canMove(send.status, status)) {
        return { kind: 'unchanged', send: view(send), current: send.status };
      }
      const from = send.status;
      send.status = status;
      return { kind: 'moved', send: view(send), from };
    },
  };
  return { tracked, sends };
}

/**
 * The subscription stored under a key, as stored (not a copy: a test may change it under the
 * sender), for assertions; `subscriptionView` reads it as the sender does.
 */
export function storedSubscription(
  table: MemoryTable,
  key: SubscriptionKey,
): StoredSubscription | undefined {
  return table.subscriptions.get(subscriptionId(key));
}

function copy<T>(item: T | undefined): T | undefined {
  return item === undefined ? undefined : structuredClone(item);
}

/** The stop-spike breaker's store, as `dynamoTopicSafety` keeps it: buckets, and the topic's pause. */
export function memoryTopicSafety(table: MemoryTable): TopicSafetyStore & {
  buckets: Map<string, HourBucket>;
} {
  const buckets = new Map<string, HourBucket>();
  const bucketId = (pageId: string, topicId: string, hour: number) =>
    `${pageId}#${topicId}#${hour}`;
  return {
    buckets,
    async add(hour, activity) {
      for (const { pageId, topicId, sends, stops } of activity) {
        const id = bucketId(pageId, topicId, hour);
        const bucket = buckets.get(id) ?? { hour, sends: 0, stops: 0 };
        buckets.set(id, { hour, sends: bucket.sends + sends, stops: bucket.stops + stops });
      }
    },
    async readHours(pageId, id, from, to) {
      const found: HourBucket[] = [];
      for (let hour = from; hour <= to; hour++) {
        const bucket = buckets.get(bucketId(pageId, id, hour));
        if (bucket) found.push({ ...bucket });
      }
      return found;
    },
    async pauseTopic(pageId, id, pause) {
      const topic = table.topics.get(topicId(pageId, id));
      // One pause, one alarm: a topic paused already (or deleted) is left alone.
      if (!topic || topic.paused) return false;
      table.writes.push({ kind: 'pauseTopic', key: topicId(pageId, id) });
      topic.paused = structuredClone(pause);
      return true;
    },
    async resumeTopic(pageId, id, since) {
      const topic = table.topics.get(topicId(pageId, id));
      if (!topic) return undefined;
      table.writes.push({ kind: 'resumeTopic', key: topicId(pageId, id) });
      const { paused } = topic;
      delete topic.paused;
      topic.breakerSince = { ...since };
      return paused;
    },
  };
}

/** Meta's policy events on the Page, as `dynamoPagePolicy` records them: the newest wins. */
export function memoryPagePolicy(table: MemoryTable): PagePolicyStore {
  return {
    async recordPolicy(pageId, policy, pausedReason) {
      const page = table.pages.get(pageId);
      if (!page || (page.policy !== undefined && page.policy.at >= policy.at)) return false;
      table.writes.push({ kind: 'recordPolicy', key: pageId });
      page.policy = structuredClone(policy);
      if (pausedReason !== undefined) Object.assign(page, { status: 'paused', pausedReason });
      return true;
    },
  };
}

/**
 * People's conversation counts, as `dynamoConversationCounter` keeps them: per hour, each mark
 * once per UTC day (a retried delivery counts nothing twice); days past the 8 days' TTL go.
 */
export function memoryConversationCounter(table: MemoryTable): ConversationCounter {
  const DAY_HOURS = 24;
  return {
    async add(counts) {
      for (const { pageId, psid, kind, at, mark } of counts) {
        const id = personId({ pageId, psid });
        const person = table.conversations.get(id) ?? { hours: new Map(), marks: new Map() };
        table.conversations.set(id, person);
        const hour = hourOf(at);
        const day = Math.floor(hour / DAY_HOURS);
        const marks = person.marks.get(day) ?? new Set<string>();
        person.marks.set(day, marks);
        if (marks.has(`${kind}#${mark}`)) continue;
        marks.add(`${kind}#${mark}`);
        table.writes.push({ kind: 'countConversation', key: id });
        const entry = person.hours.get(hour) ?? { hour, organic: 0, marketing: 0 };
        entry[kind] += 1;
        person.hours.set(hour, entry);
        // The TTL: a day's item expires 8 days after the day began.
        const expired = day - CONVERSATION_RETENTION_MS / (DAY_HOURS * 3_600_000);
        for (const old of person.marks.keys()) if (old < expired) person.marks.delete(old);
        for (const old of person.hours.keys()) {
          if (old < expired * DAY_HOURS) person.hours.delete(old);
        }
      }
    },
  };
}
