import * as z from 'zod';
import { InvalidInputError } from '../errors.ts';
import { idSchema } from '../ids.ts';
import { normaliseExpiry, type SubscriptionEvent } from '../subscription.ts';
import { cadenceSchema } from '../topic.ts';
import type { SendStatus } from '../tracked-send.ts';

/**
 * Meta's webhook deliveries, parsed once into domain events. Shapes per
 * META_PLATFORM.md section 3; every variant listed there as unsure is accepted.
 */

export type WebhookEvent =
  | SubscriptionEvent
  | { kind: 'inbound'; pageId: string; psid: string; timestamp: number }
  | MarketingStatusEvent;

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

/** What a delivery held: the events to apply and what was skipped, with why. */
export interface ParsedDelivery {
  object: string;
  events: WebhookEvent[];
  ignored: string[];
}

/** Epoch milliseconds, sent as a number or as a numeric string. */
const epochMs = z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]);

/** `STOP_NOTIFICATIONS`, `stop notifications` and `STOP NOTIFICATIONS` are one status. */
export function normaliseStatus(value: string): string {
  return value.replaceAll('_', ' ').trim().toUpperCase();
}

const optinSchema = z.object({
  type: z.literal('notification_messages'),
  payload: z.string().min(1, 'optin.payload (the topic id) is empty'),
  notification_messages_token: z.string().min(1).optional(),
  title: z.string().optional(),
  notification_messages_timezone: z.string().optional(),
  notification_messages_frequency: z
    .string()
    .transform((value) => value.toUpperCase())
    .pipe(cadenceSchema)
    .optional()
    .catch(undefined),
  token_expiry_timestamp: epochMs.transform(normaliseExpiry).optional(),
  user_token_status: z.string().optional(),
  notification_messages_status: z.string().transform(normaliseStatus).optional(),
});

const messagingSchema = z.looseObject({
  sender: z.object({ id: z.coerce.string() }).optional(),
  recipient: z.object({ id: z.coerce.string() }).optional(),
  timestamp: epochMs.optional(),
});

const envelopeSchema = z.object({
  object: z.string(),
  entry: z
    .array(
      z.looseObject({
        id: z.coerce.string(),
        time: epochMs.optional(),
        messaging: z.array(z.unknown()).optional(),
        changes: z.array(z.unknown()).optional(),
      }),
    )
    .default([]),
});

/** The Page fields of marketing statuses, and the singular spellings some deliveries use. */
const MARKETING_FIELDS: Record<string, SendStatus> = {
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

/** An id Meta may write as a JSON number (kept digit for digit by `ID_KEYS`) or a string. */
const graphId = z.union([z.string(), z.number().transform(String)]);

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
 * Keys whose numbers are Graph ids: JSON numbers past 2^53 lose digits in `JSON.parse`, so
 * their source text is kept (Node 22+ hands revivers the source).
 */
const ID_KEYS = new Set(['id', 'page_id', 'recipient_id', 'app_id', 'message_id']);

function keepIdDigits(
  this: unknown,
  key: string,
  value: unknown,
  context?: { source?: string },
): unknown {
  return typeof value === 'number' && ID_KEYS.has(key) && context?.source !== undefined
    ? context.source
    : value;
}

/**
 * Parses a delivery's JSON text into events. Throws InvalidInputError for text that is
 * not JSON or an envelope that is not Meta's; anything unrecognised inside is ignored.
 */
export function parseDelivery(text: string): ParsedDelivery {
  let json: unknown;
  try {
    json = JSON.parse(text, keepIdDigits as Parameters<typeof JSON.parse>[1]);
  } catch (error: unknown) {
    throw new InvalidInputError(
      `body is not valid JSON: ${error instanceof Error ? error.message : 'unreadable'}`,
      'malformed_json',
    );
  }
  const bare = bareStatuses(json);
  if (bare) return bare;
  const envelope = envelopeSchema.safeParse(json);
  if (!envelope.success) {
    const issue = envelope.error.issues[0];
    throw new InvalidInputError(
      `not a Meta webhook envelope: ${issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'unexpected shape'}`,
      'invalid_envelope',
    );
  }
  const { object, entry } = envelope.data;
  const parsed: ParsedDelivery = { object, events: [], ignored: [] };
  if (object !== 'page' && object !== 'instagram') {
    parsed.ignored.push(`object '${object}' is not handled`);
    return parsed;
  }
  for (const item of entry) {
    const entryTime = item.time ?? 0;
    for (const raw of item.messaging ?? []) {
      parseMessaging(raw, item.id, entryTime, parsed);
    }
    for (const raw of item.changes ?? []) {
      parseChange(raw, item.id, entryTime, parsed);
    }
  }
  // One event that can never be stored must not fail its delivery for good (Meta would retry
  // it for an hour, then unsubscribe the app from the Page): it is ignored like any malformed one.
  parsed.events = parsed.events.filter((event) => {
    const reason = unstorable(event);
    if (reason !== undefined) parsed.ignored.push(`an event whose ${reason}`);
    return reason === undefined;
  });
  return parsed;
}

/**
 * The longest title, token, token status or zone a subscription keeps. Meta's titles have at
 * most 65 characters and its tokens a few hundred; the bound keeps a subscription item far
 * below DynamoDB's 400 KB, which a 4 MiB delivery could otherwise exceed.
 */
export const STORED_TEXT_MAX_CHARS = 4096;

const storableId = idSchema('id');

/** Why an event can never be stored, or undefined when it can. */
function unstorable(event: WebhookEvent): string | undefined {
  const id = unstorableId(event);
  if (id !== undefined) return `${id} cannot be an id`;
  const text = overlongText(event);
  if (text !== undefined) return `${text} is longer than ${STORED_TEXT_MAX_CHARS} characters`;
  return undefined;
}

/** The first id of an event that cannot be part of a table key (`#`-separated, size-capped). */
function unstorableId(event: WebhookEvent): string | undefined {
  const ids: [string, string][] = [['entry.id', event.pageId]];
  if ('psid' in event) ids.push(['sender.id', event.psid]);
  if ('topicId' in event) ids.push(['optin.payload', event.topicId]);
  if (event.kind === 'marketing-status') {
    if (event.trackingId !== undefined) {
      ids.push(['marketing_message_tracking_id', event.trackingId]);
    }
    if (event.campaignId !== undefined) ids.push(['message_id', event.campaignId]);
  }
  return ids.find(([, id]) => !storableId.safeParse(id).success)?.[0];
}

/** The first text of a subscription event too long to keep, as Meta names it. */
function overlongText(event: WebhookEvent): string | undefined {
  if (event.kind !== 'optin' && event.kind !== 'stop' && event.kind !== 'resume') return undefined;
  const texts: [string, string | undefined][] = [
    ['optin.notification_messages_token', event.token],
    ['optin.title', event.title],
    ['optin.notification_messages_timezone', event.timezone],
    ['optin.user_token_status', event.kind === 'optin' ? event.tokenStatus : undefined],
  ];
  return texts.find(([, text]) => text !== undefined && text.length > STORED_TEXT_MAX_CHARS)?.[0];
}

function parseMessaging(raw: unknown, pageId: string, entryTime: number, out: ParsedDelivery) {
  const base = messagingSchema.safeParse(raw);
  if (!base.success) {
    out.ignored.push('a messaging event that is not an object with sender and recipient');
    return;
  }
  const event = base.data;
  const timestamp = event.timestamp ?? entryTime;
  if ('optin' in event) {
    parseOptin(event.optin, pageId, event.sender?.id, timestamp, out);
    return;
  }
  if ('message' in event) {
    const message = z.looseObject({ is_echo: z.boolean().optional() }).safeParse(event.message);
    // An echo is the Page's own message; only a person's message opens the 24 h window.
    if (message.success && !message.data.is_echo && event.sender?.id) {
      out.events.push({ kind: 'inbound', pageId, psid: event.sender.id, timestamp });
      return;
    }
    out.ignored.push('a message echo or a message without sender');
    return;
  }
  for (const [key, status] of Object.entries(MARKETING_FIELDS)) {
    if (key in event) {
      pushMarketing(event[key], status, pageId, timestamp, out);
      return;
    }
  }
  out.ignored.push(
    `a messaging event of kind '${Object.keys(event).filter(notEnvelopeKey).join(',') || 'none'}'`,
  );
}

function notEnvelopeKey(key: string): boolean {
  return key !== 'sender' && key !== 'recipient' && key !== 'timestamp';
}

function parseOptin(
  raw: unknown,
  pageId: string,
  psid: string | undefined,
  timestamp: number,
  out: ParsedDelivery,
) {
  const kind = z.looseObject({ type: z.string().optional() }).safeParse(raw);
  if (!kind.success || kind.data.type !== 'notification_messages') {
    out.ignored.push(
      `an optin of type '${kind.success ? (kind.data.type ?? 'plugin') : 'unknown'}'`,
    );
    return;
  }
  const parsed = optinSchema.safeParse(raw);
  if (!parsed.success || !psid) {
    const issue = parsed.success ? 'sender.id is missing' : parsed.error.issues[0]?.message;
    out.ignored.push(`a notification_messages optin that is malformed: ${issue}`);
    return;
  }
  const optin = parsed.data;
  const common = {
    pageId,
    psid,
    topicId: optin.payload,
    timestamp,
    ...(optin.title !== undefined && { title: optin.title }),
    ...(optin.notification_messages_timezone !== undefined && {
      timezone: optin.notification_messages_timezone,
    }),
  };
  const token = optin.notification_messages_token;
  const status = optin.notification_messages_status;
  if (status === 'STOP NOTIFICATIONS' || status === 'RESUME NOTIFICATIONS') {
    out.events.push({
      kind: status === 'STOP NOTIFICATIONS' ? 'stop' : 'resume',
      ...common,
      ...(token !== undefined && { token }),
    });
    return;
  }
  if (status !== undefined) {
    out.ignored.push(`an optin with status '${status}'`);
    return;
  }
  if (token === undefined) {
    out.ignored.push('a notification_messages optin without a token');
    return;
  }
  out.events.push({
    kind: 'optin',
    ...common,
    token,
    ...(optin.notification_messages_frequency !== undefined && {
      frequency: optin.notification_messages_frequency,
    }),
    ...(optin.token_expiry_timestamp !== undefined && {
      tokenExpiresAt: optin.token_expiry_timestamp,
    }),
    ...(optin.user_token_status !== undefined && { tokenStatus: optin.user_token_status }),
  });
}

function parseChange(raw: unknown, pageId: string, entryTime: number, out: ParsedDelivery) {
  const change = z.looseObject({ field: z.string(), value: z.unknown() }).safeParse(raw);
  if (!change.success) {
    out.ignored.push('a change without field');
    return;
  }
  const status = MARKETING_FIELDS[change.data.field];
  if (!status) {
    out.ignored.push(`a change of field '${change.data.field}'`);
    return;
  }
  pushMarketing(change.data.value, status, pageId, entryTime, out);
}

/**
 * A body of bare status objects, as Meta documents them (no `object`, no `entry`): one object
 * or an array of them. Undefined when the body is not that, so the envelope is checked instead.
 */
function bareStatuses(json: unknown): ParsedDelivery | undefined {
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

function pushMarketing(
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
