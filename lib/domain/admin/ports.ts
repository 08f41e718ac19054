import type { Clock } from '../../clock.ts';
import type { Log } from '../../log.ts';
import type { BroadcastStore } from '../broadcasts/broadcast.ts';
import type { DuePlacement } from '../due-placement.ts';
import type { EditionStore } from '../editions/edition.ts';
import type { EditionResults } from '../editions/edition-results.ts';
import type { FanoutDeps } from '../fanout/run-fanout.ts';
import type { Page } from '../page.ts';
import type {
  Catalog,
  SaveOutcome,
  StatsCounter,
  StatsStore,
  SubscriptionStore,
} from '../ports.ts';
import type { TopicSafetyStore } from '../safety/watch-topics.ts';
import type { Subscription, SubscriptionKey } from '../subscription.ts';
import type { Topic } from '../topic.ts';
import type { ContentSources } from './content-secret.ts';
import type { QueueDepths, WebhookDeliveries } from './diagnostics.ts';
import type { AdminGraph } from './graph.ts';

/** Pages and topics as operators manage them. */
export interface AdminCatalog extends Catalog {
  putPage(page: Page): Promise<void>;
  putTopic(topic: Topic): Promise<void>;
  listPages(): Promise<Page[]>;
  listTopics(pageId: string): Promise<Topic[]>;
}

/** Where a listing stopped: the store's own position record, opaque to the domain. */
export type ListPosition = Readonly<Record<string, string>>;

/** A subscription with the due placement it is stored under, if any. */
export interface IndexedSubscription {
  subscription: Subscription;
  /** Absent when it is not in the due index, or not where this placement puts it. */
  placement?: DuePlacement;
}

/** A Page's subscriptions through the Page index, and the writes that index them for sending. */
export interface AdminSubscriptionStore {
  /**
   * Up to `limit` subscription keys of a Page (one topic's when `topicId` is given: ids that
   * merely start with it are left out), in index order, from after `startAfter`; `next` is
   * where the read stopped, absent at the end.
   */
  listKeys(query: {
    pageId: string;
    topicId?: string;
    limit: number;
    startAfter?: ListPosition;
  }): Promise<{ keys: SubscriptionKey[]; next?: ListPosition }>;
  /** Checks a decoded cursor is a position of this listing; throws InvalidInputError if not. */
  checkPosition(position: unknown, listing: { pageId: string; topicId?: string }): ListPosition;
  /** The subscriptions (strongly consistent), in no particular order; missing ones are left out. */
  getIndexed(keys: readonly SubscriptionKey[]): Promise<IndexedSubscription[]>;
  /**
   * Puts a subscription in the due index under `placement` if it is still at `version` (the
   * optimistic lock every writer bumps); 'conflict' when someone wrote it meanwhile.
   */
  placeDue(
    subscription: Subscription,
    placement: DuePlacement,
    version: number | undefined,
  ): Promise<SaveOutcome>;
}

/** What claiming an opt-in request on a person's contact record came to. */
export type OptInClaim =
  | { claimed: true; previous?: number }
  | { claimed: false; reason: 'outside_window'; lastInboundAt?: number }
  | { claimed: false; reason: 'too_soon'; requestedAt: number };

/** Opt-in requests as recorded on the person's contact record. */
export interface OptInClaims {
  /**
   * Records an opt-in request for `title` at `at`, only if the person wrote at or after
   * `windowStart` and no request for that title was recorded after `repeatBefore`.
   */
  claim(request: {
    pageId: string;
    psid: string;
    title: string;
    at: number;
    windowStart: number;
    repeatBefore: number;
  }): Promise<OptInClaim>;
  /** Takes back a claim made at `claimedAt` (restoring `previous`), unless replaced since. */
  release(request: {
    pageId: string;
    psid: string;
    title: string;
    claimedAt: number;
    previous?: number;
  }): Promise<void>;
}

/** One day of one topic's counters. */
export interface StatsDay {
  topicId: string;
  day: string;
  counts: Partial<Record<StatsCounter, number>>;
}

/** Daily counters, read back. */
export interface StatsReader {
  /** Every stored day of the topic from `from` to `to` (`yyyy-mm-dd`, inclusive). */
  readDays(pageId: string, topicId: string, from: string, to: string): Promise<StatsDay[]>;
}

/** What an erasure removed. */
export interface ErasedCounts {
  subscriptions: number;
  contact: number;
  tokens: number;
  other: number;
}

/** Removes everything stored under one person of one Page. */
export interface ContactEraser {
  erase(pageId: string, psid: string): Promise<ErasedCounts>;
}

/** What the reconcile keeps of a Page between runs: when to list its tokens again. */
export interface ReconcileState {
  pageId: string;
  /** When the last list read to its end was taken (the run's scheduled time, or now). */
  lastListedAt?: number;
  /** Lists refused or cut short since then. */
  failures: number;
  /** Not before then (Meta's `remaining_seconds`, else a growing backoff). */
  retryAt?: number;
  /** Why the last list failed, without Meta's message. */
  lastFailure?: string;
}

/** The reconcile's own records: its state per Page and its marks on subscriptions. */
export interface ReconcileStore {
  getState(pageId: string): Promise<ReconcileState | undefined>;
  putState(state: ReconcileState): Promise<void>;
  /**
   * Sets `missingSince` on a subscription still at `version` (nothing else wrote it since it
   * was read); false when it changed meanwhile.
   */
  markMissing(key: SubscriptionKey, at: number, version: number | undefined): Promise<boolean>;
  /** Removes `missingSince`: the person is listed again. */
  clearMissing(key: SubscriptionKey): Promise<void>;
}

/** An erased person Meta has not yet confirmed unsubscribing: all a retry needs, nothing more. */
export interface PendingUnsubscribe {
  pageId: string;
  psid: string;
  erasedAt: number;
  attempts: number;
  nextAttemptAt: number;
  /** Why the last attempt failed, without Meta's message. */
  lastFailure?: string;
}

/** Unsubscribe calls to retry, per Page; each record expires on its own after 30 days. */
export interface PendingUnsubscribes {
  put(entry: PendingUnsubscribe): Promise<void>;
  list(pageId: string): Promise<PendingUnsubscribe[]>;
  remove(pageId: string, psid: string): Promise<void>;
}

/** Everything the admin API works with. */
export interface AdminDeps {
  catalog: AdminCatalog;
  /** The webhook's store: reconciled opt-ins and topic zones go through it. */
  subscriptions: SubscriptionStore;
  pageIndex: AdminSubscriptionStore;
  optInClaims: OptInClaims;
  stats: StatsStore & StatsReader;
  eraser: ContactEraser;
  reconciles: ReconcileStore;
  pendingUnsubscribes: PendingUnsubscribes;
  graph: AdminGraph;
  /** What `GET /admin/diagnostics` reads besides Meta: the webhook's and the DLQs' health. */
  webhookDeliveries: WebhookDeliveries;
  queueDepths: QueueDepths;
  /** The fan-out's ports, for runs an operator starts. */
  fanout: Omit<FanoutDeps, 'timeLeft'>;
  clock: Clock;
  log: Log;
  /** Topics' editions, one message per local date. */
  editions: EditionStore;
  /** What came of each edition: sends, skips, Meta's statuses. */
  editionResults: EditionResults;
  /** The stop-spike breaker's counts and pauses: an operator resumes a topic through it. */
  safety: TopicSafetyStore;
  /** Topics' content sources: their secrets, and which URLs this deployment allows. */
  contentSources?: ContentSources;
  /** A topic's broadcasts (`admin/broadcasts.ts`). */
  broadcasts: BroadcastStore;
  /** The zones a topic has subscribers in, any cadence: where a broadcast's window is computed. */
  topicZones: (pageId: string, topicId: string) => Promise<string[]>;
}
