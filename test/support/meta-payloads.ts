/** Builders for Meta webhook payloads in their real shapes (META_PLATFORM.md section 3). */

export interface OptinFields {
  pageId?: string;
  psid?: string;
  topicId?: string;
  timestamp?: number | string;
  token?: string;
  title?: string;
  timezone?: string;
  frequency?: string;
  expiry?: number;
  status?: string;
}

/** One `messaging` event carrying a notification_messages optin (or a stop/resume with `status`). */
export function anOptin(fields: OptinFields = {}) {
  const pageId = fields.pageId ?? '1001';
  const psid = fields.psid ?? '5001';
  const timestamp = fields.timestamp ?? 1_763_715_600_000;
  return {
    sender: { id: psid },
    recipient: { id: pageId },
    timestamp,
    optin: {
      type: 'notification_messages',
      payload: fields.topicId ?? 'daily-deals',
      notification_messages_token: fields.token ?? `tok-${psid}-${fields.topicId ?? 'daily-deals'}`,
      title: fields.title ?? 'Daily deals',
      ...(fields.timezone !== undefined && { notification_messages_timezone: fields.timezone }),
      ...(fields.frequency !== undefined && { notification_messages_frequency: fields.frequency }),
      ...(fields.expiry !== undefined && { token_expiry_timestamp: fields.expiry }),
      ...(fields.status !== undefined && { notification_messages_status: fields.status }),
    },
  };
}

/** A person's message to the Page (opens the 24 h window). */
export function anInboundMessage(fields: {
  pageId?: string;
  psid?: string;
  timestamp?: number;
  mid?: string;
  isEcho?: boolean;
}) {
  return {
    sender: { id: fields.psid ?? '5001' },
    recipient: { id: fields.pageId ?? '1001' },
    timestamp: fields.timestamp ?? 1_763_715_600_000,
    message: {
      mid: fields.mid ?? `m_${fields.timestamp ?? 0}`,
      text: 'hello',
      ...(fields.isEcho !== undefined && { is_echo: fields.isEcho }),
    },
  };
}

/** A delivery: one entry per Page, the given events in it. */
export function aDelivery(
  events: ReturnType<typeof anOptin | typeof anInboundMessage>[],
  object = 'page',
) {
  const byPage = new Map<string, typeof events>();
  for (const event of events) {
    const pageId = event.recipient.id;
    byPage.set(pageId, [...(byPage.get(pageId) ?? []), event]);
  }
  return JSON.stringify({
    object,
    entry: [...byPage].map(([id, messaging]) => ({ id, time: 1_763_715_600_000, messaging })),
  });
}

/** The five Marketing Message API status kinds, by what they report. */
export type MarketingStatusKind = 'echo' | 'delivery' | 'read' | 'click' | 'failed';

const MARKETING_FIELD: Record<MarketingStatusKind, string | undefined> = {
  echo: 'marketing_message_echoes',
  delivery: 'marketing_message_deliveries',
  read: 'marketing_message_reads',
  click: 'marketing_message_clicks',
  // META_PLATFORM.md section 3: a delivery_failed object has no `field`.
  failed: undefined,
};

/** The Page field a status kind is subscribed and delivered as. */
export function marketingFieldOf(kind: MarketingStatusKind): string {
  return MARKETING_FIELD[kind] ?? 'marketing_message_delivery_failed';
}

export interface MarketingStatusFields {
  pageId?: string;
  psid?: string | null;
  token?: string;
  campaignId?: string;
  trackingId?: string;
  timestamp?: number;
  errorMessage?: string;
}

/**
 * One status object as Meta documents it (flat; `message_id` is the campaign id): echoes and
 * deliveries carry `mid` and the tracking id, reads no `mid`, clicks and failures no tracking id.
 */
export function aMarketingStatus(kind: MarketingStatusKind, fields: MarketingStatusFields = {}) {
  const field = MARKETING_FIELD[kind];
  const pageId = fields.pageId ?? '1001';
  return {
    ...(field !== undefined && { field }),
    recipient_id: fields.psid === undefined ? 5001 : fields.psid,
    page_id: pageId,
    app_id: 100000000000001,
    timestamp: fields.timestamp ?? 1_763_726_400_000,
    ...(kind !== 'read' && { mid: `mid.$c${fields.timestamp ?? 0}` }),
    ...(kind !== 'click' &&
      kind !== 'failed' && { marketing_message_tracking_id: fields.trackingId ?? 'trk-1' }),
    messenger_subscription_token: fields.token ?? 'tok-5001',
    message_id: fields.campaignId ?? 'cmp-1',
    ...(kind === 'failed' && { error_message: fields.errorMessage ?? 'Message failed to deliver' }),
  };
}

/** Statuses in the Page change envelope, one `changes` item each, one entry per Page. */
export function inChanges(
  statuses: ReturnType<typeof aMarketingStatus>[],
  time = 1_763_726_400_000,
) {
  const byPage = new Map<string, ReturnType<typeof aMarketingStatus>[]>();
  for (const status of statuses) {
    byPage.set(status.page_id, [...(byPage.get(status.page_id) ?? []), status]);
  }
  return JSON.stringify({
    object: 'page',
    entry: [...byPage].map(([id, values]) => ({
      id,
      time,
      changes: values.map((value) => ({
        field: 'field' in value && value.field ? value.field : 'marketing_message_delivery_failed',
        value,
      })),
    })),
  });
}
