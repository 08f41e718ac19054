import * as z from 'zod';
import type {
  GraphClient,
  GraphError,
  GraphSendRequest,
  GraphSendResult,
} from '../domain/sender-ports.ts';
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
      .object({ next_eligible_time: z.coerce.number().optional() })
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
export function graphClient(options: GraphClientOptions): GraphClient {
  const base = `${options.baseUrl.replace(/\/+$/, '')}/${options.version}`;
  const timeoutMs = options.timeoutMs ?? 10_000;

  return {
    async send(request) {
      const { url, headers, body } = httpRequestFor(base, request);
      let response: Response;
      let text: string;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(timeoutMs),
        });
        text = await response.text();
      } catch (error: unknown) {
        return unanswered(error);
      }
      const usage = parseUsageHeaders(response.headers);
      const json = parseJson(text);
      if (response.ok) {
        const messageId =
          request.route === 'send_api'
            ? sendApiAnswer.safeParse(json).data?.message_id
            : marketingAnswer.safeParse(json).data?.marketing_message_tracking_id;
        // A 2xx that is not the documented success (e.g. `success: false`) is not a send.
        if (request.route === 'marketing_messages' && messageId === undefined) {
          return { kind: 'refused', status: response.status, ...withUsage(usage) };
        }
        return { kind: 'accepted', ...(messageId && { messageId }), ...withUsage(usage) };
      }
      const error = graphErrorOf(json);
      return {
        kind: 'refused',
        status: response.status,
        ...(error && { error }),
        ...withUsage(usage),
      };
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

/** Meta's error object, when the body is one. */
export function graphErrorOf(json: unknown): GraphError | undefined {
  const parsed = errorBody.safeParse(json);
  if (!parsed.success) return undefined;
  const { code, error_subcode, type, message, fbtrace_id, error_data } = parsed.data.error;
  const next = error_data?.next_eligible_time;
  return {
    code,
    ...(error_subcode !== undefined && { subcode: error_subcode }),
    ...(type !== undefined && { type }),
    ...(message !== undefined && { message }),
    ...(fbtrace_id !== undefined && { fbtraceId: fbtrace_id }),
    // Seconds or milliseconds (unsure): values above 1e12 are taken as ms.
    ...(next !== undefined && next > 0 && { nextEligibleAt: next > 1e12 ? next : next * 1000 }),
  };
}

function unanswered(error: unknown): GraphSendResult {
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
