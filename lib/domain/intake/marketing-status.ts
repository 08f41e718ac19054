import * as z from 'zod';
import type { SendStatus } from '../tracked-send.ts';
import { epochMs, graphId } from './meta-values.ts';
import type { ParsedDelivery } from './meta-webhook.ts';

/**
 * A `marketing_message_*` status (META_PLATFORM.md section 3): `sent` is an echo. Echoes,
 * deliveries and reads carry the tracking id; clicks and failures only the token and campaign.
 */
export interface MarketingStatusEvent {
  kind: 'marketing-status';
  pageId: string;
  status: SendStatus;
  timestamp: number;
  /** `messenger_subscription_token`. */
  token?: string;
  trackingId?: string;
  /** `message_id`: the campaign's id, not a message's. */
  campaignId?: string;
  /** A failure's reason as Meta words it (`error_message`). */
  errorMessage?: string;
  /** A failure's code, on deliveries that carry an `error` object. */
  error?: { code: number; subcode?: number; message?: string };
}

/** The Page fields of marketing statuses, and the singular spellings some deliveries use. */
export const MARKETING_FIELDS: Record<string, SendStatus> = {
  marketing_message_echoes: 'sent',
  marketing_message_echo: 'sent',
  marketing_message_deliveries: 'delivered',
  marketing_message_delivery: 'delivered',
  marketing_message_reads: 'read',
  marketing_message_read: 'read',
  marketing_message_clicks: 'clicked',
  marketing_message_click: 'clicked',
  marketing_message_delivery_failed: 'failed',
  marketing_message_delivery_faileds: 'failed',
};

const marketingValueSchema = z.looseObject({
  field: z.string().optional(),
  page_id: graphId.optional(),
  marketing_message_tracking_id: graphId.optional(),
  tracking_id: graphId.optional(),
  messenger_subscription_token: graphId.optional(),
  subscription_token: graphId.optional(),
  message_id: graphId.optional(),
  timestamp: epochMs.optional(),
  error_message: z.string().optional(),
  error: z
    .looseObject({
      code: z.coerce.number(),
      error_subcode: z.coerce.number().optional(),
      message: z.string().optional(),
    })
    .optional(),
});

/**
 * A body of bare status objects, as Meta documents them (no `object`, no `entry`): one object
 * or an array of them. Undefined when the body is not that, so the envelope is checked instead.
 */
export function bareStatuses(json: unknown): ParsedDelivery | undefined {
  const items = Array.isArray(json) ? json : [json];
  if (items.length === 0 || !items.every(isBareStatus)) return undefined;
  const parsed: ParsedDelivery = { object: 'marketing_message', events: [], ignored: [] };
  for (const item of items) {
    const value = marketingValueSchema.safeParse(item);
    if (!value.success || value.data.page_id === undefined) {
      parsed.ignored.push('a marketing message status without page_id');
      continue;
    }
    pushMarketing(item, bareStatusOf(value.data), value.data.page_id, 0, parsed);
  }
  return parsed;
}

function isBareStatus(item: unknown): item is Record<string, unknown> {
  if (typeof item !== 'object' || item === null || 'object' in item || 'entry' in item) {
    return false;
  }
  const field = (item as { field?: unknown }).field;
  if (typeof field === 'string') return field in MARKETING_FIELDS;
  // META_PLATFORM.md section 3: a delivery_failed object has no `field`, only `error_message`.
  return 'error_message' in item && 'messenger_subscription_token' in item;
}

function bareStatusOf(value: z.infer<typeof marketingValueSchema>): SendStatus {
  return (value.field !== undefined && MARKETING_FIELDS[value.field]) || 'failed';
}

/** Reads one status value into an event of `out`, or says in `out.ignored` why not. */
export function pushMarketing(
  raw: unknown,
  status: SendStatus,
  pageId: string,
  timestamp: number,
  out: ParsedDelivery,
) {
  const parsed = marketingValueSchema.safeParse(raw);
  if (!parsed.success) {
    out.ignored.push(`a marketing message ${status} event that is malformed`);
    return;
  }
  const value = parsed.data;
  // Meta's name is `messenger_subscription_token`; `subscription_token` is what it is sent as.
  const token = value.messenger_subscription_token ?? value.subscription_token;
  const trackingId = value.marketing_message_tracking_id ?? value.tracking_id;
  if (token === undefined && trackingId === undefined) {
    out.ignored.push(`a marketing message ${status} event without token or tracking id`);
    return;
  }
  out.events.push({
    kind: 'marketing-status',
    pageId,
    status,
    timestamp: value.timestamp ?? timestamp,
    ...(token !== undefined && { token }),
    ...(trackingId !== undefined && { trackingId }),
    ...(value.message_id !== undefined && { campaignId: value.message_id }),
    ...(value.error_message !== undefined && { errorMessage: value.error_message }),
    ...(value.error && {
      error: {
        code: value.error.code,
        ...(value.error.error_subcode !== undefined && { subcode: value.error.error_subcode }),
        ...(value.error.message !== undefined && { message: value.error.message }),
      },
    }),
  });
}
