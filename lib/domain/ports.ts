import type { DuePlacement } from './due-placement.ts';
import type { Page } from './page.ts';
import type { Subscription, SubscriptionKey, SubscriptionStatus } from './subscription.ts';

/** One person on one Page: whose subscriptions share an MM token. */
export type PersonKey = Pick<SubscriptionKey, 'pageId' | 'psid'>;

import type { Topic } from './topic.ts';

/** Raw webhook bodies, kept before they are applied; also the duplicate-delivery guard. */
export interface EventArchive {
  /** Stores the body under its hash unless present; says what was there before. */
  archive(delivery: {
    hash: string;
    body: string;
    receivedAt: number;
  }): Promise<'new' | 'unapplied' | 'applied'>;
  markApplied(hash: string): Promise<void>;
}

/** Pages and topics, as operators configured them. */
export interface Catalog {
  getPage(pageId: string): Promise<Page | undefined>;
  getTopic(pageId: string, topicId: string): Promise<Topic | undefined>;
}

export type SaveOutcome = 'saved' | 'conflict';

/** Subscriptions and their due-index placement. */
export interface SubscriptionStore {
  getMany(keys: readonly SubscriptionKey[]): Promise<Subscription[]>;
  /**
   * Writes the fields a Meta event owns (never `lastSlot`/`lastSentAt`) if the record is
   * still as `previous` was read (its version; undefined: no record yet).
   */
  saveFromEvent(
    next: Subscription,
    placement: DuePlacement | undefined,
    previous: Subscription | undefined,
  ): Promise<SaveOutcome>;
  /** Sets a status Recurrent decided (dead token, unreachable) and takes it out of the due index. */
  markStatus(key: SubscriptionKey, status: SubscriptionStatus, reason: string): Promise<void>;
  /**
   * Sets a status, as `markStatus` does, on every subscription of the person that still holds
   * `token` (an MM token is per person and Page); returns how many it marked.
   */
  markHolders(
    person: PersonKey,
    token: string,
    status: SubscriptionStatus,
    reason: string,
  ): Promise<number>;
  /**
   * Keeps every subscription of the person that holds `token` from sends until `until` (Meta's
   * frequency cap), never shortening a later cap; returns how many it capped.
   */
  capHolders(person: PersonKey, token: string, until: number): Promise<number>;
  /** Records the (cadence, zone) pairs a topic has subscribers in; never removes one. */
  addTopicZones(pageId: string, topicId: string, zones: readonly DuePlacement[]): Promise<void>;
  /** Remembers which subscription a token belongs to, for status webhooks that name only the token. */
  rememberTokens(entries: readonly { token: string; key: SubscriptionKey }[]): Promise<void>;
  findByToken(token: string): Promise<SubscriptionKey | undefined>;
}

/** The 24 h window: when each person last wrote to the Page. */
export interface ContactStore {
  recordInbound(pageId: string, psid: string, at: number): Promise<void>;
}

export const STATS_COUNTERS = [
  'optins',
  'stops',
  'resumes',
  'sent',
  'deferred',
  'failed',
  'delivered',
  'read',
  'clicked',
  /** Sends Meta reported as not delivered (`marketing_message_delivery_failed`). */
  'undelivered',
  /** Marketing statuses no kept send joins (counted on the Page's `UNMATCHED_TOPIC`). */
  'unmatched',
  /** Sends Meta's frequency caps refused (the slot is skipped, not failed). */
  'fcap',
  /** Jobs skipped with reason `person-budget`: another of the person's topics had the 12 h. */
  'budget',
  /** Jobs skipped with reason `fcap-predicted`: the send would break Meta's frequency caps. */
  'fcapPredicted',
] as const;
export type StatsCounter = (typeof STATS_COUNTERS)[number];

/** Counters to add to one topic's day. */
export interface StatsIncrement {
  pageId: string;
  topicId: string;
  /** `yyyy-mm-dd`, UTC. */
  day: string;
  counts: Partial<Record<StatsCounter | SkipCounter, number>>;
  /** The counts are then those of the edition for local date `day`, not of a UTC day. */
  edition?: boolean;
}

/** An edition's skips by reason: `skipped_<reason>` (`skipped_person_budget`). */
export type SkipCounter = `skipped_${string}`;

/** Daily counters per topic. */
export interface StatsStore {
  add(increments: readonly StatsIncrement[]): Promise<void>;
}
