import { isValidZone } from './slots.ts';
import type { Cadence } from './topic.ts';

/** What a person did to one subscription, as a webhook or Meta's token list tells it. */
export type SubscriptionEvent =
  | {
      kind: 'optin';
      pageId: string;
      psid: string;
      topicId: string;
      timestamp: number;
      token: string;
      title?: string;
      frequency?: Cadence;
      timezone?: string;
      tokenExpiresAt?: number;
      tokenStatus?: string;
    }
  | {
      kind: 'stop' | 'resume';
      pageId: string;
      psid: string;
      topicId: string;
      timestamp: number;
      token?: string;
      title?: string;
      timezone?: string;
    };

/** Meta's unit for token expiry is unsure: above 1e12 it is milliseconds, else seconds. */
export function normaliseExpiry(value: number): number {
  return value > 1e12 ? value : value * 1000;
}

export type SubscriptionStatus = 'active' | 'stopped' | 'invalid' | 'unreachable';

/** Names one person's subscription to one topic of one Page. */
export interface SubscriptionKey {
  pageId: string;
  psid: string;
  topicId: string;
}

/** A person's opt-in to a topic, with its token and everything needed to send on time. */
export interface Subscription extends SubscriptionKey {
  status: SubscriptionStatus;
  token?: string;
  title?: string;
  /** The frequency an old token was granted (WEEKLY/MONTHLY tokens keep a calendar cooldown). */
  frequency?: Cadence;
  /** IANA zone in which the topic's send time is read. */
  timezone: string;
  /** Timestamp of the event that gave `timezone`; absent while it is the Page's or UTC. */
  timezoneAt?: number;
  tokenExpiresAt?: number;
  tokenStatus?: string;
  /** Timestamp of the newest Meta event applied; older events never override it. */
  lastEventAt: number;
  /** When the subscription last became active: earlier slots are never sent. */
  activeSince?: number;
  optedInAt?: number;
  /** Why the status is what it is, when Recurrent (not the person) set it. */
  statusReason?: string;
  /** The last slot a send was claimed for, and when the request left. */
  lastSlot?: number;
  lastSentAt?: number;
  /** The queue message that claimed `lastSlot`: only it may finish a send left unfinished. */
  claimedBy?: string;
  /**
   * Meta's frequency cap refused this person (META_PLATFORM.md section 4.3): no send before
   * then, as Meta asks businesses not to retry a capped person at once.
   */
  cappedUntil?: number;
  /**
   * The first complete token list since the last event that did not list this person (MM
   * route, which has no stop webhook); a second one a day later stops the subscription.
   */
  missingSince?: number;
  /** Bumped by every write: the store's optimistic lock. */
  version?: number;
}

/** What applying an event did, for counting; undefined when it only refreshed data. */
export type SubscriptionChange = 'optin' | 'stop' | 'resume';

export interface AppliedEvent {
  next: Subscription;
  change?: SubscriptionChange;
}

/** Stable id of a subscription, for maps and logs (carries no token). */
export function subscriptionId({ pageId, psid, topicId }: SubscriptionKey): string {
  return `${pageId}#${psid}#${topicId}`;
}

/** The subscriber's zone if Meta sent a known one, else the Page's, else UTC. */
export function resolveZone(...candidates: (string | undefined)[]): string {
  return candidates.find((zone) => zone !== undefined && isValidZone(zone)) ?? 'UTC';
}

/**
 * Applies one Meta event to the current state. State follows the newest event: an event
 * no newer than the last applied one only fills in facts the record lacks (so arrival
 * order does not change the outcome); returns undefined when nothing changes.
 */
export function applyEvent(
  current: Subscription | undefined,
  event: SubscriptionEvent,
  context: { pageZone?: string },
): AppliedEvent | undefined {
  if (current && event.timestamp <= current.lastEventAt) return backfill(current, event);
  const { pageId, psid, topicId, timestamp } = event;
  const base: Subscription = current ?? {
    pageId,
    psid,
    topicId,
    status: 'stopped',
    timezone: resolveZone(event.timezone, context.pageZone),
    lastEventAt: timestamp,
  };
  const wasActive = current?.status === 'active';
  const next: Subscription = {
    ...base,
    lastEventAt: timestamp,
    timezone: resolveZone(event.timezone, current?.timezone, context.pageZone),
    ...(event.title !== undefined && { title: event.title }),
    ...(givesZone(event) && { timezoneAt: timestamp }),
  };
  delete next.statusReason;
  if (event.kind === 'optin') {
    Object.assign(next, {
      status: 'active',
      token: event.token,
      optedInAt: timestamp,
      activeSince: wasActive ? (base.activeSince ?? timestamp) : timestamp,
    });
    // Expiry, frequency and status belong to the token: a new token replaces them.
    setOrDelete(next, 'frequency', event.frequency);
    setOrDelete(next, 'tokenExpiresAt', event.tokenExpiresAt);
    setOrDelete(next, 'tokenStatus', event.tokenStatus);
    return { next, change: 'optin' };
  }
  if (event.token !== undefined && next.token === undefined) next.token = event.token;
  if (event.kind === 'stop') {
    next.status = 'stopped';
    return { next, ...(current?.status !== 'stopped' && { change: 'stop' }) };
  }
  next.status = 'active';
  if (!wasActive) next.activeSince = timestamp;
  return { next, ...(!wasActive && { change: 'resume' }) };
}

/**
 * An older event fills in what applying it in its place would have left: the token of the
 * newest opt-in (a stop or resume only lends its token to a record without one) and the zone
 * of the newest event that named one.
 */
function backfill(current: Subscription, event: SubscriptionEvent): AppliedEvent | undefined {
  const next = { ...current };
  let changed = false;
  if (
    event.kind === 'optin' &&
    (current.optedInAt === undefined || event.timestamp > current.optedInAt)
  ) {
    next.token = event.token;
    setOrDelete(next, 'frequency', event.frequency);
    setOrDelete(next, 'tokenExpiresAt', event.tokenExpiresAt);
    setOrDelete(next, 'tokenStatus', event.tokenStatus);
    next.optedInAt = event.timestamp;
    changed = true;
  } else if (current.token === undefined && event.token !== undefined) {
    next.token = event.token;
    changed = true;
  }
  if (
    givesZone(event) &&
    (current.timezoneAt === undefined || event.timestamp > current.timezoneAt)
  ) {
    next.timezone = event.timezone;
    next.timezoneAt = event.timestamp;
    changed = true;
  }
  if (current.title === undefined && event.title !== undefined) {
    next.title = event.title;
    changed = true;
  }
  return changed ? { next } : undefined;
}

/** Whether the event names a zone the subscription can use. */
function givesZone(event: SubscriptionEvent): event is SubscriptionEvent & { timezone: string } {
  return event.timezone !== undefined && isValidZone(event.timezone);
}

function setOrDelete<K extends keyof Subscription>(
  target: Subscription,
  key: K,
  value: Subscription[K] | undefined,
): void {
  if (value === undefined) delete target[key];
  else target[key] = value;
}
