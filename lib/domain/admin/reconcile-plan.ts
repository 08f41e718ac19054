import type { PersonKey } from '../ports.ts';
import type { Subscription, SubscriptionEvent, SubscriptionKey } from '../subscription.ts';
import type { Topic } from '../topic.ts';
import type { TokenNode } from './graph.ts';

/** Two complete lists that miss an active MM subscription must be at least this far apart. */
export const MISSING_APART_MS = 24 * 3_600_000;

/** What one reconcile decided, before anything is written. */
export interface ReconcilePlan {
  /** Opt-ins the webhooks missed: tokens of known people, and unknown people who join. */
  events: SubscriptionEvent[];
  /** Unknown people who join the Page's default topic. */
  joined: number;
  /** Unknown people counted only: the Page has no default topic, or no title matched. */
  unknownPeople: number;
  /** Listed people whose erasure Meta has not confirmed yet: left alone. */
  erasurePending: number;
  /** Titles Meta listed that name no topic of the Page, or several (legacy route). */
  unmatchedTitles: string[];
  unmatchedTokens: number;
  /** Active subscriptions a complete list missed for the first time: marked. */
  markMissing: Subscription[];
  /** Subscriptions marked missing that the list names again. */
  clearMissing: SubscriptionKey[];
  /** People missed by two complete lists a day apart: each holder of the token is stopped. */
  stop: (PersonKey & { token: string })[];
}

/** What the marketing route's reconcile decides from. */
export interface MarketingListInput {
  /** One token per person (`do_not_return_duplicates`). */
  listed: readonly TokenNode[];
  /** Every subscription stored for the Page. */
  stored: readonly Subscription[];
  /** PSIDs erased here whose unsubscribe Meta has not confirmed. */
  erasurePending: ReadonlySet<string>;
  defaultTopic?: Topic;
  /** The whole list was read: only then does being absent mean anything. */
  complete: boolean;
  /** When the list was taken. */
  listedAt: number;
}

/**
 * The marketing route's decisions (one token per person, no stop webhook): a listed person
 * with no subscription joins the default topic or is counted; a known person's new token
 * refreshes each subscription (the webhook's own rules keep newer state); an active
 * subscription a complete list misses is marked, and stopped when a second complete list a
 * day later misses it too. A mark older than the subscription's last event no longer counts.
 */
export function planMarketingReconcile(input: MarketingListInput): ReconcilePlan {
  const plan = emptyPlan();
  const byPerson = new Map<string, Subscription[]>();
  for (const item of input.stored) {
    byPerson.set(item.psid, [...(byPerson.get(item.psid) ?? []), item]);
  }
  const listed = new Map(input.listed.map((node) => [node.psid, node]));
  for (const node of listed.values()) {
    if (input.erasurePending.has(node.psid)) {
      plan.erasurePending++;
      continue;
    }
    const known = byPerson.get(node.psid);
    if (known === undefined) {
      if (input.defaultTopic === undefined) {
        plan.unknownPeople++;
        continue;
      }
      plan.joined++;
      plan.events.push(optInEventOf(input.defaultTopic, node));
      continue;
    }
    for (const item of known) {
      if (item.token !== node.token) plan.events.push(optInEventOf(item, node));
    }
  }
  if (!input.complete) return plan;
  const stopped = new Set<string>();
  for (const item of input.stored) {
    if (listed.has(item.psid)) {
      if (item.missingSince !== undefined) plan.clearMissing.push(keyOf(item));
      continue;
    }
    if (item.status !== 'active' || item.token === undefined) continue;
    const mark = item.missingSince;
    const standing = mark !== undefined && mark > item.lastEventAt && mark <= input.listedAt;
    if (!standing) plan.markMissing.push(item);
    else if (input.listedAt - mark >= MISSING_APART_MS) {
      const person = `${item.psid}\u0000${item.token}`;
      if (stopped.has(person)) continue;
      stopped.add(person);
      plan.stop.push({ pageId: item.pageId, psid: item.psid, token: item.token });
    }
  }
  return plan;
}

/**
 * The legacy route's decisions (a token per topic, stops by webhook): each listed token goes
 * to the one topic its title names; a title naming none or several is reported.
 */
export function planLegacyReconcile(input: {
  listed: readonly TokenNode[];
  topics: readonly Topic[];
  erasurePending: ReadonlySet<string>;
  pageId: string;
}): ReconcilePlan {
  const plan = emptyPlan();
  const byTitle = new Map<string, Topic[]>();
  for (const topic of input.topics) {
    byTitle.set(topic.title, [...(byTitle.get(topic.title) ?? []), topic]);
  }
  const unmatched = new Set<string>();
  for (const node of input.listed) {
    if (input.erasurePending.has(node.psid)) {
      plan.erasurePending++;
      continue;
    }
    const [topic, ...others] = byTitle.get(node.title ?? '') ?? [];
    if (topic === undefined || others.length > 0) {
      unmatched.add(node.title ?? '');
      plan.unmatchedTokens++;
      continue;
    }
    plan.events.push(optInEventOf({ pageId: input.pageId, topicId: topic.topicId }, node));
  }
  plan.unmatchedTitles = [...unmatched].sort();
  return plan;
}

/** A listed token as the opt-in webhook Meta would have sent when it was created. */
function optInEventOf(
  target: { pageId: string; topicId: string; title?: string },
  node: TokenNode,
): SubscriptionEvent {
  // On the MM route Meta's `topic_title` is a default: the topic's own title is kept.
  const title = target.title ?? node.title;
  return {
    kind: 'optin',
    pageId: target.pageId,
    psid: node.psid,
    topicId: target.topicId,
    timestamp: node.createdAt,
    token: node.token,
    ...(title !== undefined && { title }),
    ...(node.timezone !== undefined && { timezone: node.timezone }),
    ...(node.expiresAt !== undefined && { tokenExpiresAt: node.expiresAt }),
    ...(node.tokenStatus !== undefined && { tokenStatus: node.tokenStatus }),
  };
}

function keyOf({ pageId, psid, topicId }: SubscriptionKey): SubscriptionKey {
  return { pageId, psid, topicId };
}

function emptyPlan(): ReconcilePlan {
  return {
    events: [],
    joined: 0,
    unknownPeople: 0,
    erasurePending: 0,
    unmatchedTitles: [],
    unmatchedTokens: 0,
    markMissing: [],
    clearMissing: [],
    stop: [],
  };
}
