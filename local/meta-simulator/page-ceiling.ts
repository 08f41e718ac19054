/**
 * Meta's per-Page ceiling of about 40 messages a second (META_PLATFORM.md section 6): above it
 * "the Page cannot send new messages until the volume decreases", which the simulator makes a
 * hold of `holdMs`. It counts accepted token sends over a sliding second of `now`'s time (the
 * rate limiter's real time, or the runtime clock where the runtime says so).
 */

import { insertInOrder, inWindowAt, KEPT_FOR_MS } from './rate-limiter.ts';

/** The ceiling's numbers; defaults 40 a second and a 60-second hold. */
export interface PageCeilingOptions {
  perSecond?: number;
  holdMs?: number;
}

export type PageCeiling = ReturnType<typeof createPageCeiling>;

/** One sliding second and one hold per Page. */
export function createPageCeiling(options: PageCeilingOptions, now: () => number) {
  const perSecond = options.perSecond ?? 40;
  const holdMs = options.holdMs ?? 60_000;
  const windows = new Map<string, number[]>();
  const heldUntil = new Map<string, number>();
  /** The Page's sends kept for windows still to be decided (`KEPT_FOR_MS`). */
  const sendsOf = (pageId: string, at: number) => {
    const sends = (windows.get(pageId) ?? []).filter((sent) => sent > at - KEPT_FOR_MS);
    windows.set(pageId, sends);
    return sends;
  };
  return {
    /**
     * Whether the Page may send now: undefined, or when its hold ends. A Page whose last second
     * is full is held from now: the send that would go over starts the hold.
     */
    refusal(pageId: string): { until: number; at: number } | undefined {
      const at = now();
      const held = heldUntil.get(pageId);
      if (held !== undefined && at < held) return { until: held, at };
      if (inWindowAt(sendsOf(pageId, at), at).length < perSecond) return undefined;
      heldUntil.set(pageId, at + holdMs);
      return { until: at + holdMs, at };
    },
    /** Counts a send the Page made. */
    sent(pageId: string): void {
      const at = now();
      insertInOrder(sendsOf(pageId, at), at);
    },
  };
}
