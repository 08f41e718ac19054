import type { TokenFrequency } from './cooldown.ts';
import { messageId } from './ids.ts';
import type { OutgoingEvent } from './webhook-delivery.ts';

/**
 * The wire shapes Meta produces: webhook events (META_PLATFORM.md section 3) and token nodes of
 * the token read APIs (section 4). Timestamps in events are epoch ms; token nodes use seconds.
 */

/** How `token_expiry_timestamp` is written, if at all (its unit is unsure at Meta). */
export type TokenExpiryFormat = 'none' | 'seconds' | 'milliseconds';

/** What the shapes need of a token. */
export interface TokenFacts {
  token: string;
  pageId: string;
  psid: string;
  topicId: string;
  title: string;
  createdAt: number;
  optedInAt: number;
  frequency?: TokenFrequency;
  expiresAt?: number;
  userTokenStatus: 'REFRESHED' | 'NOT_REFRESHED';
  timezone?: string;
}

/** One element of `notification_message_tokens`, and the core of a token read. */
export interface TokenNode {
  /** The documented field name (META_PLATFORM.md section 7), not `token`. */
  notification_messages_token: string;
  recipient_id: string;
  topic_title: string;
  creation_timestamp: number;
  token_expiry_timestamp?: number;
  user_token_status: string;
  notification_messages_timezone?: string;
  next_eligible_time: number;
}

function expiryField(
  expiresAt: number | undefined,
  format: TokenExpiryFormat,
): { token_expiry_timestamp?: number } {
  if (format === 'none' || expiresAt === undefined) return {};
  return {
    token_expiry_timestamp: format === 'seconds' ? Math.floor(expiresAt / 1000) : expiresAt,
  };
}

/** A token as the token APIs list it; `nextEligibleAt` is for the legacy route. */
export function tokenNode(
  token: TokenFacts,
  nextEligibleAt: number,
  format: TokenExpiryFormat,
): TokenNode {
  return {
    notification_messages_token: token.token,
    recipient_id: token.psid,
    topic_title: token.title,
    creation_timestamp: Math.floor(token.createdAt / 1000),
    ...expiryField(token.expiresAt, format),
    user_token_status: token.userTokenStatus,
    ...(token.timezone !== undefined && { notification_messages_timezone: token.timezone }),
    next_eligible_time: Math.floor(nextEligibleAt / 1000),
  };
}

/** A person's message to the Page (`messages` field): opens the 24 h window. */
export function inboundEvent(
  pageId: string,
  psid: string,
  at: number,
  text: string,
): OutgoingEvent {
  return {
    kind: 'messaging',
    pageId,
    dueAt: at,
    event: {
      sender: { id: psid },
      recipient: { id: pageId },
      timestamp: at,
      message: { mid: messageId(), text },
    },
  };
}

/** The `messaging_optins` event of a person who tapped the opt-in button. */
export function optInEvent(token: TokenFacts, format: TokenExpiryFormat): OutgoingEvent {
  return {
    kind: 'messaging',
    pageId: token.pageId,
    dueAt: token.optedInAt,
    event: {
      sender: { id: token.psid },
      recipient: { id: token.pageId },
      timestamp: token.optedInAt,
      optin: {
        type: 'notification_messages',
        payload: token.topicId,
        notification_messages_token: token.token,
        title: token.title,
        ...(token.timezone !== undefined && { notification_messages_timezone: token.timezone }),
        ...(token.frequency !== undefined && { notification_messages_frequency: token.frequency }),
        ...expiryField(token.expiresAt, format),
        user_token_status: token.userTokenStatus,
      },
    },
  };
}

/** A stop or resume, spelt with a space (`STOP NOTIFICATIONS`) or an underscore. */
export function statusEvent(
  token: TokenFacts,
  status: 'STOP' | 'RESUME',
  at: number,
  spelling: 'space' | 'underscore',
): OutgoingEvent {
  return {
    kind: 'messaging',
    pageId: token.pageId,
    dueAt: at,
    event: {
      sender: { id: token.psid },
      recipient: { id: token.pageId },
      timestamp: at,
      optin: {
        type: 'notification_messages',
        payload: token.topicId,
        notification_messages_token: token.token,
        title: token.title,
        notification_messages_status: `${status}${spelling === 'underscore' ? '_' : ' '}NOTIFICATIONS`,
      },
    },
  };
}

/** The five Marketing Message API status webhooks (META_PLATFORM.md section 3). */
export type MarketingStatusKind = 'echo' | 'delivery' | 'read' | 'click' | 'failed';

/**
 * How status webhooks leave: as `entry[].changes[]` items of the Page envelope (the default),
 * or as the bare objects Meta's pages document, one delivery each.
 */
export type MarketingStatusShape = 'envelope' | 'bare';

const MARKETING_FIELDS: Record<MarketingStatusKind, string> = {
  echo: 'marketing_message_echoes',
  delivery: 'marketing_message_deliveries',
  read: 'marketing_message_reads',
  click: 'marketing_message_clicks',
  failed: 'marketing_message_delivery_failed',
};

/** What a status names of its send. */
export interface MarketingSendFacts {
  appId: string;
  pageId: string;
  psid: string;
  token: string;
  campaignId: string;
  trackingId: string;
  mid: string;
}

/** Meta writes Graph ids as JSON numbers; ours become numbers when that keeps every digit. */
function graphNumber(id: string): string | number {
  return /^[1-9]\d{0,14}$/.test(id) ? Number(id) : id;
}

/**
 * One marketing status in Meta's documented flat shape: `message_id` is the campaign id; reads
 * carry no `mid`; clicks and failures no tracking id; a failure has no `field`, only
 * `error_message`.
 */
export function marketingEvent(
  kind: MarketingStatusKind,
  send: MarketingSendFacts,
  at: number,
  shape: MarketingStatusShape,
  errorMessage?: string,
): OutgoingEvent {
  const field = MARKETING_FIELDS[kind];
  const value: Record<string, unknown> = {
    ...(kind !== 'failed' && { field }),
    recipient_id: graphNumber(send.psid),
    page_id: graphNumber(send.pageId),
    app_id: graphNumber(send.appId),
    timestamp: at,
    ...(kind !== 'read' && { mid: send.mid }),
    ...(kind !== 'click' &&
      kind !== 'failed' && { marketing_message_tracking_id: send.trackingId }),
    messenger_subscription_token: send.token,
    message_id: send.campaignId,
    ...(kind === 'failed' && { error_message: errorMessage ?? 'Message failed to deliver' }),
  };
  if (shape === 'bare') return { kind: 'bare', pageId: send.pageId, dueAt: at, body: value };
  return { kind: 'change', pageId: send.pageId, dueAt: at, change: { field, value } };
}

/** What Meta did to a Page; any `action` is sent as given, so tests can send unknown ones. */
export interface PolicyEnforcement {
  action: string;
  reason?: string;
  key?: 'policy_enforcement' | 'policy-enforcement';
}

/**
 * A `messaging_policy_enforcement` event (META_PLATFORM.md section 3): Meta warns, blocks or
 * unblocks the Page; no `reason` on an unblock. `key` picks the older hyphenated spelling.
 */
export function policyEnforcementEvent(
  pageId: string,
  at: number,
  policy: PolicyEnforcement,
): OutgoingEvent {
  const { action, reason, key = 'policy_enforcement' } = policy;
  return {
    kind: 'messaging',
    pageId,
    dueAt: at,
    event: {
      recipient: { id: pageId },
      timestamp: at,
      [key]: { action, ...(reason !== undefined && action !== 'unblock' && { reason }) },
    },
  };
}
