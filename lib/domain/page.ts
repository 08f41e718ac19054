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
}

export const DEFAULT_RATE_PER_SECOND = 20;
