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
export function anInboundMessage(fields: { pageId?: string; psid?: string; timestamp?: number }) {
  return {
    sender: { id: fields.psid ?? '5001' },
    recipient: { id: fields.pageId ?? '1001' },
    timestamp: fields.timestamp ?? 1_763_715_600_000,
    message: { mid: `m_${fields.timestamp ?? 0}`, text: 'hello' },
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
