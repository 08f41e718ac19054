import type { SkipCounter, StatsCounter } from '../ports.ts';

/** When a broadcast goes: at one local date and time in each subscriber's zone, or at once. */
export type BroadcastTiming = { date: string; localTime: string } | { now: true };

/** Where a broadcast stands: not started, its jobs being queued, all queued, or cancelled. */
export type BroadcastState = 'scheduled' | 'sending' | 'done' | 'cancelled';

/** What is counted of a broadcast: its sends, failures and skips by reason. */
export type BroadcastCounts = Partial<Record<StatsCounter | SkipCounter, number>>;

/** One extra message to every active subscriber of a topic, once, at its time in their zone. */
export interface Broadcast {
  pageId: string;
  topicId: string;
  broadcastId: string;
  /** A Send API `message` object, checked when it was created. */
  message: Record<string, unknown>;
  timing: BroadcastTiming;
  createdAt: number;
  /** The first and last zone's instant, over the topic's zones when it was created. */
  firstAt: number;
  lastAt: number;
  /** The scheduled time of the fan-out run that first queued its jobs: no cancelling after. */
  startedAt?: number;
  /** When a fan-out run found every zone's jobs queued. */
  doneAt?: number;
  cancelledAt?: number;
  counts: BroadcastCounts;
}

/** Names one broadcast. */
export interface BroadcastKey {
  pageId: string;
  topicId: string;
  broadcastId: string;
}

/** What came of cancelling a broadcast. */
export type BroadcastCancel =
  | { kind: 'cancelled'; broadcast: Broadcast }
  | { kind: 'missing' }
  | { kind: 'started'; startedAt: number }
  | { kind: 'already-cancelled'; cancelledAt: number };

/** Broadcasts of topics, one item each, apart from the Page's partition. */
export interface BroadcastStore {
  /** Stores a new broadcast (its id is fresh: never overwrites one). */
  create(broadcast: Broadcast): Promise<void>;
  /** One broadcast (strongly consistent), or undefined. */
  get(key: BroadcastKey): Promise<Broadcast | undefined>;
  /** Every broadcast of a topic, by id (ids sort by creation). */
  list(query: { pageId: string; topicId: string }): Promise<Broadcast[]>;
  /** A topic's broadcasts neither done nor cancelled: what a fan-out run may have to queue. */
  listOpen(query: { pageId: string; topicId: string }): Promise<Broadcast[]>;
  /** Cancels a broadcast that no run has started. */
  cancel(key: BroadcastKey, at: number): Promise<BroadcastCancel>;
  /**
   * Records that the run scheduled at `at` queues its jobs (kept if one did before); undefined
   * when it was cancelled (or is gone): then nothing may be queued.
   */
  markStarted(key: BroadcastKey, at: number): Promise<Broadcast | undefined>;
  /** Records that every zone's jobs were queued. */
  markDone(key: BroadcastKey, at: number): Promise<void>;
  /** Adds to a broadcast's counters. */
  count(key: BroadcastKey, counts: BroadcastCounts): Promise<void>;
}

/** A broadcast's state, from what its item records. */
export function broadcastState(broadcast: Broadcast): BroadcastState {
  if (broadcast.cancelledAt !== undefined) return 'cancelled';
  if (broadcast.doneAt !== undefined) return 'done';
  return broadcast.startedAt === undefined ? 'scheduled' : 'sending';
}

/** A fresh broadcast id: its creation time to the second, then random, so ids sort by creation. */
export function newBroadcastId(createdAt: number, random: string): string {
  const second = new Date(createdAt).toISOString().slice(0, 19).replace(/[-:]/g, '');
  return `${second}-${random.replaceAll('-', '').slice(0, 8)}`;
}
