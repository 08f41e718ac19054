import { slotsBetween } from '#lib/domain/slots.ts';
import type { Topic } from '#lib/domain/topic.ts';
import { capFor } from '../local/meta-simulator/frequency-caps.ts';
import type { OrganicTraffic } from '../local/meta-simulator/organic-traffic.ts';
import { HOUR_MS } from './rules-world.ts';

/**
 * The sends Meta's rules allowed, the denominator of the benchmark's ratio. A send is allowed
 * for each slot of a subscription that Meta holds active at the slot (opted in before it, not
 * stopped or opted out, in the zone Meta last heard), taken in time order per token (a topic's
 * token on the legacy route, the person's one token on the MM route), unless
 * - the token's cooldown since the last allowed send is not over at the slot (48 h legacy,
 *   12 h MM: of a person's MM topics due within 12 h only one is allowed), or
 * - Meta's frequency cap refuses it (MM; the caps' model over the organic traffic and the
 *   allowed sends), or
 * - the slot fell inside Meta's outage, when no sender could send.
 */

/** A change of one subscription as Meta sees it: active (in a zone) or not, from `at`. */
export interface TruthEvent {
  at: number;
  pageId: string;
  psid: string;
  topicId: string;
  active: boolean;
  zone: string;
}

export interface AllowedInput {
  truth: readonly TruthEvent[];
  topics: readonly Topic[];
  /** Pages of the MM route: one token per person, 12 h, frequency caps. */
  marketingPages: ReadonlySet<string>;
  traffic: OrganicTraffic;
  /** The person's key in the traffic model (the simulator's `personKey`). */
  personKey: (pageId: string, psid: string) => string;
  end: number;
  outages: readonly { from: number; to: number }[];
}

/** The allowed sends, per route. */
export function allowedSends(input: AllowedInput): {
  send_api: number;
  marketing_messages: number;
} {
  const slotsByToken = new Map<string, number[]>();
  // Every slot of a (topic, zone) over the period, computed once.
  const start = Math.min(...input.truth.map((event) => event.at));
  const cache = new Map<string, number[]>();
  const slotsOf = (topic: Topic, zone: string) => {
    const key = `${topic.pageId}|${topic.topicId}|${zone}`;
    let slots = cache.get(key);
    if (!slots) {
      slots = slotsBetween(topic, zone, start - 1, input.end - 1);
      cache.set(key, slots);
    }
    return slots;
  };
  const bySubscription = new Map<string, TruthEvent[]>();
  for (const event of input.truth) {
    const key = `${event.pageId}|${event.psid}|${event.topicId}`;
    const list = bySubscription.get(key) ?? [];
    list.push(event);
    bySubscription.set(key, list);
  }
  for (const events of bySubscription.values()) {
    const first = events[0];
    if (!first) continue;
    const topic = input.topics.find(
      (t) => t.pageId === first.pageId && t.topicId === first.topicId,
    );
    if (!topic) continue;
    const marketing = input.marketingPages.has(first.pageId);
    const tokenKey = marketing
      ? `${first.pageId}|${first.psid}`
      : `${first.pageId}|${first.psid}|${first.topicId}`;
    const slots = slotsByToken.get(tokenKey) ?? [];
    events.forEach((event, i) => {
      if (!event.active) return;
      const to = events[i + 1]?.at ?? input.end;
      // activeSince <= slot, and before the next change.
      for (const slot of slotsOf(topic, event.zone))
        if (slot >= event.at && slot < to) slots.push(slot);
    });
    slotsByToken.set(tokenKey, slots);
  }
  const allowed = { send_api: 0, marketing_messages: 0 };
  for (const [tokenKey, slots] of slotsByToken) {
    const [pageId = '', psid = ''] = tokenKey.split('|');
    const marketing = input.marketingPages.has(pageId);
    const cooldown = (marketing ? 12 : 48) * HOUR_MS;
    const person = input.personKey(pageId, psid);
    const sent: number[] = [];
    for (const slot of [...new Set(slots)].sort((a, b) => a - b)) {
      if (input.outages.some((outage) => slot >= outage.from && slot < outage.to)) continue;
      const last = sent.at(-1);
      if (last !== undefined && slot - last < cooldown) continue;
      if (marketing && capFor(input.traffic, {}, person, sent.slice(-50), slot)) continue;
      sent.push(slot);
    }
    allowed[marketing ? 'marketing_messages' : 'send_api'] += sent.length;
  }
  return allowed;
}
