import * as z from 'zod';
import { InvalidInputError } from '../errors.ts';
import { idSchema } from '../ids.ts';
import { POLICY_KEYS, type PolicyEvent, parsePolicyEnforcement } from '../safety/page-policy.ts';
import { normaliseExpiry, type SubscriptionEvent } from '../subscription.ts';
import { cadenceSchema } from '../topic.ts';
import {
  bareStatuses,
  MARKETING_FIELDS,
  type MarketingStatusEvent,
  pushMarketing,
} from './marketing-status.ts';
import { epochMs, parseMetaJson } from './meta-values.ts';

export type { MarketingStatusEvent } from './marketing-status.ts';

/**
 * Meta's webhook deliveries, parsed once into domain events. Shapes per
 * META_PLATFORM.md section 3; every variant listed there as unsure is accepted.
 */

export type WebhookEvent =
  | SubscriptionEvent
  | {
      kind: 'inbound';
      pageId: string;
      psid: string;
      timestamp: number;
      /** Meta's `message.mid`: the same on each retry of the delivery. */
      messageId?: string;
    }
  | MarketingStatusEvent
  | PolicyEvent;

/** What a delivery held: the events to apply and what was skipped, with why. */
export interface ParsedDelivery {
  object: string;
  events: WebhookEvent[];
  ignored: string[];
}

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

/** A `messages` event's message: only what the 24 h window and the forecast's count need. */
const messageSchema = z.looseObject({
  is_echo: z.boolean().optional(),
  mid: z.string().min(1).optional(),
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

/**
 * Parses a delivery's JSON text into events. Throws InvalidInputError for text that is
 * not JSON or an envelope that is not Meta's; anything unrecognised inside is ignored.
 */
export function parseDelivery(text: string): ParsedDelivery {
  let json: unknown;
  try {
    json = parseMetaJson(text);
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
    const message = messageSchema.safeParse(event.message);
    // An echo is the Page's own message; only a person's message opens the 24 h window.
    if (message.success && !message.data.is_echo && event.sender?.id) {
      const { mid } = message.data;
      out.events.push({
        kind: 'inbound',
        pageId,
        psid: event.sender.id,
        timestamp,
        ...(mid !== undefined && { messageId: mid }),
      });
      return;
    }
    out.ignored.push('a message echo or a message without sender');
    return;
  }
  const policyKey = POLICY_KEYS.find((key) => key in event);
  if (policyKey !== undefined) {
    const policy = parsePolicyEnforcement(event[policyKey], pageId, timestamp);
    if ('ignored' in policy) out.ignored.push(policy.ignored);
    else out.events.push(policy);
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
