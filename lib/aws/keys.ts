import type { DueGroup, DuePlacement } from '../domain/due-placement.ts';
import type { SubscriptionKey } from '../domain/subscription.ts';
import { type Cadence, cadenceSchema } from '../domain/topic.ts';
import { sha256 } from '../hash.ts';
import { DUE_SHARDS } from './table-definition.ts';

/** The table's key layout (ARCHITECTURE.md, "Data"), in one place. */
export const keys = {
  page: (pageId: string) => ({ pk: `PAGE#${pageId}`, sk: 'CONFIG' }),
  /** One item per registered Page under a fixed partition, so Pages can be listed without a scan. */
  pageRegistry: (pageId: string) => ({ pk: 'PAGES', sk: `PAGE#${pageId}` }),
  topic: (pageId: string, topicId: string) => ({ pk: `PAGE#${pageId}`, sk: `TOPIC#${topicId}` }),
  topicZones: (pageId: string, topicId: string) => ({
    pk: `PAGE#${pageId}`,
    sk: `ZONES#${topicId}`,
  }),
  subscription: ({ pageId, psid, topicId }: SubscriptionKey) => ({
    pk: `SUB#${pageId}#${psid}`,
    sk: `TOPIC#${topicId}`,
  }),
  contact: (pageId: string, psid: string) => ({ pk: `SUB#${pageId}#${psid}`, sk: 'CONTACT' }),
  /**
   * A person's Marketing Message budget for one token, in their partition (read with their
   * subscriptions, erased with them); the token is hashed, as in the token directory.
   */
  personBudget: (pageId: string, psid: string, token: string) => ({
    pk: `SUB#${pageId}#${psid}`,
    sk: `${PERSON_BUDGET_PREFIX}${sha256(token)}`,
  }),
  rateBucket: (pageId: string) => ({ pk: `RATE#${pageId}`, sk: 'BUCKET' }),
  event: (hash: string) => ({ pk: `EVT#${hash}`, sk: 'RAW' }),
  stats: (pageId: string, topicId: string, day: string) => ({
    pk: `STATS#${pageId}#${topicId}`,
    sk: `DAY#${day}`,
  }),
  /** Tokens are stored hashed in this key so the key itself reveals nothing. */
  token: (token: string) => ({ pk: `TOKEN#${sha256(token)}`, sk: 'SUB' }),
  /**
   * A Marketing Message API send kept for its status webhooks: one partition per token (hashed,
   * as in the token directory), one item per tracking id, so a click or a failure (no tracking id)
   * finds the token's few sends with one Query.
   */
  trackedSend: (token: string, trackingId: string) => ({
    pk: `MMSEND#${sha256(token)}`,
    sk: `TRACK#${trackingId}`,
  }),
  /** When the webhook last took a signed delivery for a Page (apart from the Page's partition). */
  webhookDelivery: (pageId: string) => ({ pk: `WEBHOOK#${pageId}`, sk: 'LAST' }),
  /** What the reconcile keeps of a Page between runs (apart from the Page's partition). */
  reconcileState: (pageId: string) => ({ pk: `RECONCILE#${pageId}`, sk: 'STATE' }),
  /** An erased person whose unsubscribe Meta has not confirmed: one partition per Page. */
  pendingUnsubscribe: (pageId: string, psid: string) => ({
    pk: `UNSUB#${pageId}`,
    sk: `PSID#${psid}`,
  }),
  /**
   * One topic's sends and stops in one UTC hour, for the stop-spike breaker: a partition per
   * topic, so its last 24 hours are one Query; the hour is zero-padded to sort as a number.
   */
  safetyHour: (pageId: string, topicId: string, hour: number) => ({
    pk: `SAFETY#${pageId}#${topicId}`,
    sk: `HOUR#${String(hour).padStart(8, '0')}`,
  }),
  /** The last completed fan-out run of a cadence. */
  fanoutRun: (cadence: Cadence) => ({ pk: `RUN#${cadence}`, sk: 'STATE' }),
  /** Sort key in the Page index: topic, then person, so one topic's subscriptions are contiguous. */
  pageIndexSort: ({ topicId, psid }: SubscriptionKey) => `${topicId}#${psid}`,
  /** What every Page index sort key of one topic begins with (and those of a topic `<id>#...`). */
  pageIndexTopicPrefix: (topicId: string) => `${topicId}#`,
  /** The due-index partition: `DUE#<cadence>#<pageId>#<topicId>#<zone>#<shard>`. */
  duePartition: (cadence: Cadence, pageId: string, topicId: string, zone: string, shard: number) =>
    `DUE#${cadence}#${pageId}#${topicId}#${zone}#${shard}`,
  /**
   * A topic's edition for one date: one partition per topic, apart from the Page's (which the
   * fan-out reads whole), sorted by date so a month is one Query.
   */
  /** An edition's counters, next to the topic's daily ones (`DAY#` and `EDITION#` never overlap). */
  editionStats: (pageId: string, topicId: string, date: string) => ({
    pk: `STATS#${pageId}#${topicId}`,
    sk: `EDITION#${date}`,
  }),
  edition: (pageId: string, topicId: string, date: string) => ({
    pk: `EDITION#${pageId}#${topicId}`,
    sk: `DATE#${date}`,
  }),
  /**
   * A topic's content source secret, in the local runtime (Secrets Manager holds it on AWS):
   * apart from the Page's partition, which the fan-out and topic reads take whole.
   */
  contentSecret: (pageId: string, topicId: string) => ({
    pk: `CONTENTSECRET#${pageId}#${topicId}`,
    sk: 'SECRET',
  }),
  /**
   * A topic's broadcast: one partition per topic, apart from the Page's (which the fan-out reads
   * whole), sorted by id (ids sort by creation) so a topic's broadcasts are one Query.
   */
  broadcast: (pageId: string, topicId: string, broadcastId: string) => ({
    pk: `BROADCAST#${pageId}#${topicId}`,
    sk: `ID#${broadcastId}`,
  }),
  /** A broadcast's counters, next to it: a small item the sender adds to without rewriting the message. */
  broadcastCounts: (pageId: string, topicId: string, broadcastId: string) => ({
    pk: `BROADCAST#${pageId}#${topicId}`,
    sk: `COUNTS#${broadcastId}`,
  }),
  /**
   * A person's conversations with the Page on one UTC day, counted per hour for the frequency-cap
   * forecast: in their partition, so the sender's one Query of it reads them (and erasure takes them).
   */
  conversationDay: (pageId: string, psid: string, day: string) => ({
    pk: `SUB#${pageId}#${psid}`,
    sk: `${CONVERSATION_DAY_PREFIX}${day}`,
  }),
};

/** What the sort keys of a topic's broadcasts and of their counters begin with. */
export const BROADCAST_PREFIX = 'ID#';
export const BROADCAST_COUNTS_PREFIX = 'COUNTS#';

/** What a conversation day's sort key begins with: `CONVERSATIONS#<yyyy-mm-dd>`. */
export const CONVERSATION_DAY_PREFIX = 'CONVERSATIONS#';

/** What a person budget's sort key begins with: `BUDGET#<sha256 of token>`. */
export const PERSON_BUDGET_PREFIX = 'BUDGET#';

/** The person a `SUB#<pageId>#<psid>` partition belongs to; undefined for another item's. */
export function psidOf(pageId: string, pk: string): string | undefined {
  return suffixAfter(`SUB#${pageId}#`, pk);
}

/** The topic of a `TOPIC#<topicId>` sort key (a topic's or a subscription's). */
export function topicIdOf(sk: string): string | undefined {
  return suffixAfter('TOPIC#', sk);
}

/** The topic of a topic zones item's sort key `ZONES#<topicId>`. */
export function zonesTopicIdOf(sk: string): string | undefined {
  return suffixAfter('ZONES#', sk);
}

/** The day of a stats item's sort key `DAY#<yyyy-mm-dd>`. */
export function dayOf(sk: string): string | undefined {
  return suffixAfter('DAY#', sk);
}

/** A subscription of the Page read back from its item's keys; undefined for any other item. */
export function subscriptionKeyOf(
  pageId: string,
  item: { pk: string; sk: string },
): SubscriptionKey | undefined {
  const psid = psidOf(pageId, item.pk);
  const topicId = topicIdOf(item.sk);
  return psid === undefined || topicId === undefined ? undefined : { pageId, psid, topicId };
}

function suffixAfter(prefix: string, key: string): string | undefined {
  return key.startsWith(prefix) ? key.slice(prefix.length) : undefined;
}

/** The due partition a placed subscription is written to: its shard comes from its PSID. */
export function duePartitionOf(key: SubscriptionKey, placement: DuePlacement): string {
  const { pageId, topicId, psid } = key;
  return keys.duePartition(
    placement.cadence,
    pageId,
    topicId,
    placement.zone,
    shardOf(psid, DUE_SHARDS),
  );
}

/** Every shard's partition of one group, for the fan-out to read. */
export function duePartitionsOf({ cadence, pageId, topicId, zone }: DueGroup): string[] {
  return Array.from({ length: DUE_SHARDS }, (_, shard) =>
    keys.duePartition(cadence, pageId, topicId, zone, shard),
  );
}

/**
 * The placement a stored due partition stands for, when it is exactly the partition
 * `duePartitionOf` gives this subscription; one under another shard reads as none.
 */
export function placementOf(key: SubscriptionKey, partition: string): DuePlacement | undefined {
  for (const cadence of cadenceSchema.options) {
    const prefix = `DUE#${cadence}#${key.pageId}#${key.topicId}#`;
    if (!partition.startsWith(prefix)) continue;
    const zone = partition.slice(prefix.length, partition.lastIndexOf('#'));
    const placement = { cadence, zone };
    return duePartitionOf(key, placement) === partition ? placement : undefined;
  }
  return undefined;
}

/** Spreads people evenly over `shards` (FNV-1a of the PSID): stable, so a key never moves. */
export function shardOf(psid: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < psid.length; i++) {
    hash ^= psid.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

/** A topic zones item's string-set entry: `<cadence>#<zone>`. */
export function topicZoneEntry({ cadence, zone }: DuePlacement): string {
  return `${cadence}#${zone}`;
}

/** Reads a topic zones entry back; undefined for one of no known cadence. */
export function parseTopicZoneEntry(entry: string): DuePlacement | undefined {
  const at = entry.indexOf('#');
  const cadence = cadenceSchema.safeParse(entry.slice(0, at));
  return at >= 0 && cadence.success
    ? { cadence: cadence.data, zone: entry.slice(at + 1) }
    : undefined;
}

/** The hour of a `safetyHour` sort key, or undefined for another item's. */
export function safetyHourOf(sk: string): number | undefined {
  const match = /^HOUR#(\d{8})$/.exec(sk);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}
