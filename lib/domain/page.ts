import * as z from 'zod';

/** How a Page's marketing messages reach Meta: the legacy Send API or the paid Marketing Message API. */
export const deliveryRouteSchema = z.enum(['send_api', 'marketing_messages']);
export type DeliveryRoute = z.infer<typeof deliveryRouteSchema>;

export type PageStatus = 'active' | 'paused';

/** A Facebook Page (or Instagram account) registered with Recurrent. */
export interface Page {
  pageId: string;
  accessToken: string;
  deliveryRoute: DeliveryRoute;
  adAccountId?: string;
  campaignId?: string;
  ratePerSecond: number;
  /** IANA zone: the fallback for subscribers without one, and the calendar of WEEKLY/MONTHLY tokens. */
  timezone: string;
  status: PageStatus;
  pausedReason?: string;
  /**
   * Meta holds the Page's Marketing Message sends until then (campaign not ready, budget
   * spent): its MM jobs wait, with `heldReason` shown to operators. Past, it holds nothing.
   */
  heldUntil?: number;
  heldReason?: string;
  /**
   * The topic that people Meta lists but Recurrent never heard of (click-to-Messenger ads,
   * Meta's own invites) join when a reconcile finds them; without it they are only counted.
   */
  defaultTopicId?: string;
  /** Meta's newest policy enforcement event for the Page (`lib/domain/safety/page-policy.ts`). */
  policy?: PagePolicy;
  /** When no message may reach a person, in their zone; `QUIET_HOURS_DEFAULT` when absent. */
  quietHours?: QuietHours;
}

/**
 * A daily window, `HH:mm` to `HH:mm` local time, that may run past midnight (`21:00` to `08:00`);
 * `start` equal to `end` is no quiet time at all.
 */
export interface QuietHours {
  start: string;
  end: string;
}

/** A `messaging_policy_enforcement` event as the Page keeps it: what Meta did, and when. */
export interface PagePolicy {
  action: 'warning' | 'block' | 'unblock';
  /** Meta's reason; none on an unblock. */
  reason?: string;
  /** The event's timestamp: only a newer event replaces it. */
  at: number;
}

/** Whether the Page's sends over its route are held by Meta at `now`. */
export function isHeld(page: Page, now: number): page is Page & { heldUntil: number } {
  return (
    page.deliveryRoute === 'marketing_messages' &&
    page.heldUntil !== undefined &&
    page.heldUntil > now
  );
}

/** A Page's send rate unless an operator sets one. */
export const DEFAULT_RATE_PER_SECOND = 20;
/**
 * Meta's per-Page ceiling, about 40 messages a second (the high-volume inbox limit,
 * META_PLATFORM.md section 6): no Page is configured or paced above it.
 */
export const MAX_RATE_PER_SECOND = 40;
export const MIN_RATE_PER_SECOND = 1;
