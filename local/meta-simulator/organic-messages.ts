import { inboundEvent } from './meta-events.ts';
import type { ModelState } from './model-state.ts';

/**
 * People's organic conversations with their Page as Meta delivers them: a `messages` webhook
 * each (the traffic model's `pageShare` of a person's conversations). What the frequency caps
 * count besides is held with other businesses, and no webhook tells the Page of it.
 */
export function organicMessages(state: ModelState) {
  /** Up to when each person's conversations were delivered; a person starts when first seen. */
  const delivered = new Map<string, number>();
  return {
    /** Sends the webhooks of every person's conversations with their Page up to now; returns how many. */
    deliverUntil(now: number): number {
      const { traffic } = state;
      if (!traffic) return 0;
      let count = 0;
      for (const [key, who] of state.people) {
        const from = delivered.get(key) ?? now;
        delivered.set(key, now);
        for (const at of traffic.withPageBetween(key, from, now)) {
          who.lastMessageAt = Math.max(who.lastMessageAt ?? at, at);
          state.emit(inboundEvent(who.pageId, who.psid, at, 'Hi'));
          count++;
        }
      }
      return count;
    },
  };
}
