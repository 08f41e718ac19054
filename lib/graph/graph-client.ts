import * as z from 'zod';
import type { AdminGraph, OptInTemplate, TokenNode, TokenPage } from '../domain/admin/graph.ts';
import type { GraphCallResult, GraphError } from '../domain/meta-errors.ts';
import type { GraphClient, GraphSendRequest } from '../domain/sending/ports.ts';
import { normaliseExpiry } from '../domain/subscription.ts';
import { setupReads } from './setup-reads.ts';
import { parseUsageHeaders } from './usage-headers.ts';

export interface GraphClientOptions {
  /** `META_GRAPH_URL`, e.g. `https://graph.facebook.com`. */
  baseUrl: string;
  /** `META_GRAPH_VERSION`, e.g. `v24.0`. */
  version: string;
  /** Per request, from the first byte sent to the whole answer read. */
  timeoutMs?: number;
}

const errorBody = z.object({
  error: z.object({
    message: z.string().optional(),
    type: z.string().optional(),
    code: z.coerce.number().int(),
    error_subcode: z.coerce.number().int().optional(),
    fbtrace_id: z.string().optional(),
    // Undocumented (unsure): where a cooldown error may say when the token is eligible again.
    error_data: z
      .object({
        next_eligible_time: z.coerce.number().optional(),
        // META_PLATFORM.md section 5: authoritative for retry and hold times when present.
        remaining_seconds: z.coerce.number().optional().catch(undefined),
      })
      .loose()
      .optional()
      .catch(undefined),
  }),
});

const sendApiAnswer = z.object({
  recipient_id: z.string().optional(),
  message_id: z.string(),
});

const marketingAnswer = z.object({
  success: z.literal(true),
  marketing_message_tracking_id: z.string(),
});

/** Seconds or milliseconds (unsure at Meta), as a number or a numeric string. */
const epochNumber = z
  .union([z.number(), z.string().regex(/^\d+$/).transform(Number)])
  .pipe(z.number().positive())
  .transform(normaliseExpiry);

const tokenNodeSchema = z.object({
  // The documented field (META_PLATFORM.md section 7); `token` is what older readers used.
  notification_messages_token: z.string().min(1).optional(),
  token: z.string().min(1).optional(),
  recipient_id: z.coerce.string().min(1),
  topic_title: z.string().min(1).optional().catch(undefined),
  creation_timestamp: epochNumber,
  token_expiry_timestamp: epochNumber.optional().catch(undefined),
  user_token_status: z.string().optional().catch(undefined),
  notification_messages_timezone: z.string().optional().catch(undefined),
});

const tokenListAnswer = z.object({
  data: z.array(z.unknown()),
  paging: z
    .looseObject({
      cursors: z.looseObject({ after: z.string().optional() }).optional(),
      next: z.string().optional(),
    })
    .optional(),
});

const unsubscribeAnswer = z.object({ invalid_rows_count: z.coerce.number().int().min(0) });

/** The fields the token list is asked for (META_PLATFORM.md section 7). */
const TOKEN_FIELDS = [
  'notification_messages_token',
  'recipient_id',
  'topic_title',
  'creation_timestamp',
  'token_expiry_timestamp',
  'user_token_status',
  'notification_messages_timezone',
  'next_eligible_time',
].join(',');

/** Connection failures that happen before a single byte of the request is written. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);

/**
 * Meta's Graph API over global fetch (keep-alive is Node's default). Answers are parsed with
 * zod; usage headers come back with every answer. Nothing here ever logs or throws a URL: the
 * legacy route carries the Page access token in the query string.
 */
export function graphClient(options: GraphClientOptions): GraphClient & AdminGraph {
  const base = `${options.baseUrl.replace(/\/+$/, '')}/${options.version}`;
  const timeoutMs = options.timeoutMs ?? 10_000;

  /**
   * Every call goes out here: one fetch, one timeout, and a failure reported by its code or
   * name only. The answer keeps its headers (Meta's usage headers).
   */
  const exchange = async (
    url: string,
    init: { method: 'GET' | 'POST'; headers?: Record<string, string>; body?: unknown },
  ): Promise<
    { kind: 'answered'; status: number; ok: boolean; json: unknown; headers: Headers } | Unanswered
  > => {
    try {
      const response = await fetch(url, {
        method: init.method,
        headers: {
          ...(init.body !== undefined && { 'content-type': 'application/json' }),
          ...init.headers,
        },
        ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await response.text();
      return {
        kind: 'answered',
        status: response.status,
        ok: response.ok,
        json: parseJson(text),
        headers: response.headers,
      };
    } catch (error: unknown) {
      return unanswered(error);
    }
  };
  const refusedBy = (answer: { status: number; json: unknown }) => {
    const error = graphErrorOf(answer.json);
    return { kind: 'refused' as const, status: answer.status, ...(error && { error }) };
  };

  return {
    ...setupReads(async (path, query, accessToken) => {
      const search = new URLSearchParams(query);
      const url = `${base}/${path}${search.size > 0 ? `?${search}` : ''}`;
      const answer = await exchange(url, {
        method: 'GET',
        headers: { authorization: `Bearer ${accessToken}` },
      });
      if (answer.kind === 'unanswered') return answer;
      if (!answer.ok) return refusedBy(answer);
      return { kind: 'ok', value: answer.json };
    }),

    async requestOptIn(request) {
      const { url, body } = optInRequestFor(base, request);
      const answer = await exchange(url, { method: 'POST', body });
      if (answer.kind === 'unanswered') return answer;
      if (!answer.ok) return refusedBy(answer);
      const messageId = sendApiAnswer.safeParse(answer.json).data?.message_id;
      return { kind: 'ok', value: messageId === undefined ? {} : { messageId } };
    },

    async listTokens({ pageId, accessToken, limit, after, onePerPerson }) {
      const query = new URLSearchParams({ fields: TOKEN_FIELDS, limit: String(limit) });
      if (onePerPerson === true) query.set('do_not_return_duplicates', 'true');
      if (after !== undefined) query.set('after', after);
      query.set('access_token', accessToken);
      const url = `${base}/${encodeURIComponent(pageId)}/notification_message_tokens?${query}`;
      const answer = await exchange(url, { method: 'GET' });
      if (answer.kind === 'unanswered') return answer;
      if (!answer.ok) return refusedBy(answer);
      const list = tokenListAnswer.safeParse(answer.json);
      if (!list.success) return { kind: 'refused', status: answer.status };
      return { kind: 'ok', value: tokenPageOf(list.data) };
    },

    async unsubscribe({ pageId, accessToken, psids }) {
      const url = `${base}/${encodeURIComponent(pageId)}/messaging_customer_base/unsubscribe`;
      const answer = await exchange(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${accessToken}` },
        body: { data: psids.map((psid) => ({ psid })) },
      });
      if (answer.kind === 'unanswered') return answer;
      if (!answer.ok) return refusedBy(answer);
      const parsed = unsubscribeAnswer.safeParse(answer.json);
      if (!parsed.success) return { kind: 'refused', status: answer.status };
      return { kind: 'ok', value: { invalidRows: parsed.data.invalid_rows_count } };
    },

    async send(request) {
      const { url, headers, body } = httpRequestFor(base, request);
      const answer = await exchange(url, { method: 'POST', headers, body });
      if (answer.kind === 'unanswered') return answer;
      const usage = withUsage(parseUsageHeaders(answer.headers));
      if (!answer.ok) return { ...refusedBy(answer), ...usage };
      const messageId =
        request.route === 'send_api'
          ? sendApiAnswer.safeParse(answer.json).data?.message_id
          : marketingAnswer.safeParse(answer.json).data?.marketing_message_tracking_id;
      // A 2xx that is not the documented success (e.g. `success: false`) is not a send.
      if (request.route === 'marketing_messages' && messageId === undefined) {
        return { kind: 'refused', status: answer.status, ...usage };
      }
      return { kind: 'accepted', ...(messageId && { messageId }), ...usage };
    },
  };
}

/** The exact HTTP request Meta documents for each route (META_PLATFORM.md section 4). */
export function httpRequestFor(
  base: string,
  request: GraphSendRequest,
): { url: string; headers: Record<string, string>; body: Record<string, unknown> } {
  if (request.route === 'send_api') {
    return {
      url: `${base}/${encodeURIComponent(request.pageId)}/messages?access_token=${encodeURIComponent(request.accessToken)}`,
      headers: {},
      body: {
        recipient: { notification_messages_token: request.token },
        message: request.message,
      },
    };
  }
  return {
    url: `${base}/act_${encodeURIComponent(request.adAccountId)}/messages`,
    headers: { authorization: `Bearer ${request.accessToken}` },
    body: {
      message_id: request.campaignId,
      messenger_delivery_data: { subscription_token: request.token },
      message: request.message,
    },
  };
}

/** The opt-in template request (META_PLATFORM.md section 2), addressed to the person's PSID. */
export function optInRequestFor(
  base: string,
  request: { pageId: string; accessToken: string; psid: string; template: OptInTemplate },
): { url: string; body: Record<string, unknown> } {
  const { template } = request;
  return {
    url: `${base}/${encodeURIComponent(request.pageId)}/messages?access_token=${encodeURIComponent(request.accessToken)}`,
    body: {
      recipient: { id: request.psid },
      message: {
        attachment: {
          type: 'template',
          payload: {
            template_type: 'notification_messages',
            title: template.title,
            payload: template.payload,
            ...(template.imageUrl !== undefined && { image_url: template.imageUrl }),
            notification_messages_cta_text: template.ctaText,
            notification_messages_timezone: template.timezone,
            notification_messages_reoptin: 'ENABLED',
          },
        },
      },
    },
  };
}

function tokenPageOf(list: z.infer<typeof tokenListAnswer>): TokenPage {
  const tokens: TokenNode[] = [];
  let malformed = 0;
  for (const element of list.data) {
    const node = tokenNodeSchema.safeParse(element);
    const token = node.data?.notification_messages_token ?? node.data?.token;
    if (!node.success || token === undefined) {
      malformed++;
      continue;
    }
    const value = node.data;
    tokens.push({
      token,
      psid: value.recipient_id,
      ...(value.topic_title !== undefined && { title: value.topic_title }),
      createdAt: value.creation_timestamp,
      ...(value.token_expiry_timestamp !== undefined && {
        expiresAt: value.token_expiry_timestamp,
      }),
      ...(value.user_token_status !== undefined && { tokenStatus: value.user_token_status }),
      ...(value.notification_messages_timezone !== undefined && {
        timezone: value.notification_messages_timezone,
      }),
    });
  }
  // Graph says there is more with `paging.next`; `cursors.after` is there on every page.
  const after = list.paging?.next === undefined ? undefined : list.paging.cursors?.after;
  return { tokens, malformed, ...(after !== undefined && { after }) };
}

/** Meta's error object, when the body is one. */
export function graphErrorOf(json: unknown): GraphError | undefined {
  const parsed = errorBody.safeParse(json);
  if (!parsed.success) return undefined;
  const { code, error_subcode, type, message, fbtrace_id, error_data } = parsed.data.error;
  const next = error_data?.next_eligible_time;
  const remaining = error_data?.remaining_seconds;
  return {
    code,
    ...(error_subcode !== undefined && { subcode: error_subcode }),
    ...(type !== undefined && { type }),
    ...(message !== undefined && { message }),
    ...(fbtrace_id !== undefined && { fbtraceId: fbtrace_id }),
    // Seconds or milliseconds (unsure), as token expiry times are.
    ...(next !== undefined && next > 0 && { nextEligibleAt: normaliseExpiry(next) }),
    ...(remaining !== undefined &&
      Number.isFinite(remaining) &&
      remaining >= 0 && { remainingMs: remaining * 1000 }),
  };
}

/** A call that got no answer: whether the request may have reached Meta, and why. */
type Unanswered = Extract<GraphCallResult<never>, { kind: 'unanswered' }>;

function unanswered(error: unknown): Unanswered {
  const code = causeCode(error);
  if (code !== undefined && NOT_SENT_CODES.has(code)) {
    return { kind: 'unanswered', requestLeft: false, cause: code };
  }
  // A timeout or a dropped connection: Meta may have the request. Only names, never messages
  // (an undici message can quote the URL, and with it the access token).
  const name = error instanceof Error ? error.name : 'unknown';
  return { kind: 'unanswered', requestLeft: true, cause: code ?? name };
}

function causeCode(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 4; depth++) {
    if (typeof current === 'object' && 'code' in current && typeof current.code === 'string') {
      return current.code;
    }
    current = typeof current === 'object' && 'cause' in current ? current.cause : undefined;
  }
  return undefined;
}

function withUsage<T>(usage: T | undefined): { usage?: T } {
  return usage === undefined ? {} : { usage };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
