import type { IncomingMessage, ServerResponse } from 'node:http';
import * as z from 'zod';
import type { Log } from '#lib/log.ts';
import type { Counters } from './counters.ts';
import type { Faults, GraphRoute } from './faults.ts';
import { errorBody, type GraphErrorSpec, graphErrors, type RateLimitCode } from './graph-errors.ts';
import { newTraceId } from './ids.ts';
import type { MetaModel, ModelResult, SentMessage } from './model.ts';
import {
  CALLS_PER_ENGAGED_USER,
  type RateLimiter,
  regainMinutes,
  type UsageReading,
} from './rate-limiter.ts';

/**
 * The Graph API surface over node:http: routing, parsing at the edge, then faults, access
 * token, rate limit and injected errors in Meta's order, then the model. Every answer carries
 * `X-App-Usage` and `X-Business-Use-Case-Usage`.
 */

export interface GraphRoutesDeps {
  model: MetaModel;
  limiter: RateLimiter;
  faults: Faults;
  counters: Counters;
  rateLimitCode: RateLimitCode;
  log: Log;
}

const MAX_BODY_BYTES = 4 * 1024 * 1024;
const VERSION = /^v\d+(\.\d+)?$/;

/** One resolved call: its route, whom it concerns, and how to run it. */
interface Call {
  route: GraphRoute;
  /** The Page the call counts against (rate limit, usage header, injected errors). */
  usageKey: string;
  token?: string;
  authorise(): GraphErrorSpec | undefined;
  run(): ModelResult<unknown>;
}

interface Answer {
  status: number;
  body: unknown;
  spec?: GraphErrorSpec;
  traceId?: string;
  regainMinutes?: number;
}

const recipientSchema = z.looseObject({
  id: z.coerce.string().optional(),
  notification_messages_token: z.string().optional(),
});
const messagesParams = z.looseObject({
  recipient: recipientSchema.optional(),
  message: z.unknown().optional(),
});
const optInTemplate = z.looseObject({
  attachment: z.looseObject({
    payload: z.looseObject({ template_type: z.literal('notification_messages') }),
  }),
});
const marketingParams = z.looseObject({
  message_id: z.coerce.string().optional(),
  messenger_delivery_data: z.looseObject({ subscription_token: z.string().optional() }).optional(),
  message: z.unknown().optional(),
});
const campaignParams = z.looseObject({
  name: z.unknown().optional(),
  page_id: z.coerce.string().optional(),
});
const listParams = z.looseObject({
  limit: z.coerce.number().int().optional(),
  after: z.string().optional(),
});

/** A node:http request listener answering as Meta's Graph API would. */
export function createGraphRoutes(deps: GraphRoutesDeps) {
  const { model, limiter, faults, counters, log } = deps;
  const hangs = new Set<NodeJS.Timeout>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/_simulator/health') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    counters.call();
    const raw = await readBody(req);
    const resolved =
      raw === undefined
        ? graphErrors.invalidParameter('request body is too large')
        : resolveCall(req, url, raw);
    if (!('route' in resolved)) {
      write(res, fail(resolved), firstSegment(url) ?? 'graph');
      return;
    }
    const call = resolved;
    const latency = faults.latency(call.route);
    if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
    const fate = faults.draw(call.route);
    if (fate === 'server_error') {
      write(res, fail(graphErrors.serviceUnavailable(faults.serverErrorStatus())), call.usageKey);
      return;
    }
    if (fate === 'timeout') {
      counters.timeout();
      if (faults.timeoutProcessesRequest()) {
        const { sent } = decide(call);
        if (sent) sent.answered = false;
      }
      const hang = setTimeout(() => {
        hangs.delete(hang);
        res.destroy();
      }, faults.hangMs());
      hangs.add(hang);
      return;
    }
    const { answer } = decide(call);
    write(res, answer, call.usageKey);
  }

  function decide(call: Call): { answer: Answer; sent?: SentMessage } {
    const denied = call.authorise();
    if (denied) return { answer: fail(denied) };
    const burst = faults.takeBurst(call.usageKey);
    if (burst) {
      return {
        answer: {
          ...fail(graphErrors.rateLimited(burst.code ?? deps.rateLimitCode)),
          regainMinutes: burst.regainMinutes,
        },
      };
    }
    const admission = limiter.admit(call.usageKey, model.pageRate(call.usageKey));
    if (!admission.ok) {
      return {
        answer: {
          ...fail(graphErrors.rateLimited(deps.rateLimitCode)),
          regainMinutes: regainMinutes(admission.regainMs),
        },
      };
    }
    const injected = faults.takeError({
      route: call.route,
      pageId: call.usageKey,
      ...(call.token !== undefined && { token: call.token }),
    });
    if (injected) return { answer: fail(injected) };
    const result = call.run();
    if (!result.ok) return { answer: fail(result.error) };
    counters.accept(call.route);
    return {
      answer: { status: 200, body: result.value },
      ...(result.sent && { sent: result.sent }),
    };
  }

  function fail(spec: GraphErrorSpec): Answer {
    counters.reject(spec.reason);
    const traceId = newTraceId();
    return { status: spec.status, body: errorBody(spec, traceId), spec, traceId };
  }

  function write(res: ServerResponse, answer: Answer, usageKey: string) {
    const perSecond = model.pageRate(usageKey);
    const usage: UsageReading & { estimated_time_to_regain_access: number } =
      answer.regainMinutes === undefined
        ? {
            ...limiter.usage(
              usageKey,
              perSecond,
              CALLS_PER_ENGAGED_USER * model.engagedUsers(usageKey),
            ),
            estimated_time_to_regain_access: 0,
          }
        : {
            call_count: 100,
            total_cputime: 100,
            total_time: 100,
            estimated_time_to_regain_access: answer.regainMinutes,
          };
    const body = JSON.stringify(answer.body);
    const headers: Record<string, string> = {
      'content-type': 'application/json; charset=UTF-8',
      'x-fb-trace-id': answer.traceId ?? newTraceId(),
      'x-app-usage': JSON.stringify(limiter.appUsage()),
      'x-business-use-case-usage': JSON.stringify({
        [usageKey]: [{ type: 'messenger', ...usage }],
      }),
      'content-length': String(Buffer.byteLength(body)),
    };
    if (answer.spec?.code === 190) {
      headers['www-authenticate'] =
        `OAuth "Facebook Platform" "invalid_token" "${answer.spec.message}"`;
    }
    res.writeHead(answer.status, headers).end(body);
  }

  function resolveCall(req: IncomingMessage, url: URL, raw: Buffer): Call | GraphErrorSpec {
    const method = (req.method ?? 'GET').toUpperCase();
    const segments = url.pathname.split('/').filter((part) => part !== '');
    if (segments[0] !== undefined && VERSION.test(segments[0])) segments.shift();
    const params = paramsOf(url, raw, req.headers['content-type']);
    if (params === undefined)
      return graphErrors.invalidParameter('the request body is not valid JSON');
    const accessToken = accessTokenOf(req, params);
    const [first, second, ...rest] = segments.map(safeDecode);
    if (first === undefined || rest.length > 0) return graphErrors.unknownPath(url.pathname);

    if (method === 'POST' && second === 'messages' && first.startsWith('act_')) {
      const adAccountId = first.slice('act_'.length);
      const parsed = marketingParams.safeParse(params);
      if (!parsed.success) return invalid(parsed.error);
      const { message_id: campaignId, messenger_delivery_data: delivery, message } = parsed.data;
      const token = delivery?.subscription_token;
      const campaignPage = campaignId ? model.campaignPage(adAccountId, campaignId) : undefined;
      return {
        route: 'marketing_messages',
        usageKey: campaignPage ?? first,
        ...(token !== undefined && { token }),
        authorise: () => model.authoriseAdAccount(adAccountId, accessToken, method),
        run: () => model.sendMarketing(adAccountId, { campaignId, token, message }),
      };
    }
    if (method === 'POST' && second === 'message_campaign' && first.startsWith('act_')) {
      const adAccountId = first.slice('act_'.length);
      const parsed = campaignParams.safeParse(params);
      if (!parsed.success) return invalid(parsed.error);
      const { name, page_id: pageId } = parsed.data;
      return {
        route: 'campaign',
        usageKey: pageId ?? first,
        authorise: () => model.authoriseAdAccount(adAccountId, accessToken, method),
        run: () => model.createCampaign(adAccountId, { name, pageId }),
      };
    }
    if (method === 'POST' && second === 'messages') {
      const pageId = first;
      const parsed = messagesParams.safeParse(params);
      if (!parsed.success) return invalid(parsed.error);
      const { recipient, message } = parsed.data;
      const authorise = () => model.authorisePage(pageId, accessToken, method);
      const token = recipient?.notification_messages_token;
      if (token !== undefined) {
        return {
          route: 'send_api',
          usageKey: pageId,
          token,
          authorise,
          run: () => model.sendWithToken(pageId, token, message),
        };
      }
      const psid = recipient?.id;
      if (psid === undefined)
        return graphErrors.invalidParameter('param recipient must be non-empty');
      const template = optInTemplate.safeParse(message);
      if (template.success) {
        const fields = template.data.attachment.payload;
        return {
          route: 'optin_request',
          usageKey: pageId,
          authorise,
          run: () =>
            model.requestOptIn(pageId, {
              psid,
              title: fields.title,
              payload: fields.payload,
              imageUrl: fields.image_url,
              imageAspectRatio: fields.image_aspect_ratio,
              ctaText: fields.notification_messages_cta_text,
              timezone: fields.notification_messages_timezone,
              frequency: fields.notification_messages_frequency,
              reoptin: fields.notification_messages_reoptin,
            }),
        };
      }
      return {
        route: 'standard',
        usageKey: pageId,
        authorise,
        run: () => model.sendToPerson(pageId, psid, message),
      };
    }
    if (method === 'GET' && second === 'notification_message_tokens') {
      const pageId = first;
      const parsed = listParams.safeParse(params);
      if (!parsed.success) return invalid(parsed.error);
      const { limit, after } = parsed.data;
      return {
        route: 'token_list',
        usageKey: pageId,
        authorise: () => model.authorisePage(pageId, accessToken, method),
        run: () => {
          const listed = model.listTokens(pageId, {
            ...(limit !== undefined && { limit }),
            ...(after !== undefined && { after }),
          });
          if (!listed.ok) return listed;
          const { data, after: cursor, hasMore } = listed.value;
          const next = new URL(url);
          if (cursor !== undefined) next.searchParams.set('after', cursor);
          return {
            ok: true,
            value: {
              data,
              paging: {
                cursors: cursor === undefined ? {} : { after: cursor },
                // Graph's `next` is the same request with the new cursor, token included.
                ...(hasMore && {
                  next: `http://${req.headers.host ?? '127.0.0.1'}${next.pathname}${next.search}`,
                }),
              },
            },
          };
        },
      };
    }
    if (method === 'GET' && second === undefined && first.startsWith('notification_messages_')) {
      const token = first.slice('notification_messages_'.length);
      return {
        route: 'token_read',
        usageKey: model.tokenPage(token) ?? first,
        token,
        authorise: () => model.authoriseTokenRead(token, accessToken),
        run: () => model.readToken(token),
      };
    }
    return graphErrors.unknownPath(url.pathname);
  }

  return {
    /** The request listener. */
    listener(req: IncomingMessage, res: ServerResponse): void {
      handle(req, res).catch((error: unknown) => {
        log.error('meta simulator: request failed', {
          error: error instanceof Error ? error.message : String(error),
        });
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify(errorBody(graphErrors.serviceUnavailable(500), newTraceId())));
        }
      });
    },
    /** Cancels the timers of hung calls (their sockets are closed with the server). */
    stop(): void {
      for (const hang of hangs) clearTimeout(hang);
      hangs.clear();
    },
  };
}

function firstSegment(url: URL): string | undefined {
  return url.pathname.split('/').find((part) => part !== '' && !VERSION.test(part));
}

function invalid(error: z.ZodError): GraphErrorSpec {
  const issue = error.issues[0];
  return graphErrors.invalidParameter(
    issue ? `param ${issue.path.join('.') || 'body'}: ${issue.message}` : 'invalid parameters',
  );
}

/** Graph takes parameters from the query string and from a JSON or form body alike. */
function paramsOf(
  url: URL,
  raw: Buffer,
  contentType: string | undefined,
): Record<string, unknown> | undefined {
  const params: Record<string, unknown> = {};
  for (const [key, value] of url.searchParams) params[key] = maybeJson(value);
  if (raw.length === 0) return params;
  const text = raw.toString('utf8');
  if (contentType?.includes('application/x-www-form-urlencoded')) {
    for (const [key, value] of new URLSearchParams(text)) params[key] = maybeJson(value);
    return params;
  }
  try {
    const json: unknown = JSON.parse(text);
    if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
    return { ...params, ...json };
  } catch {
    return undefined;
  }
}

function maybeJson(value: string): unknown {
  if (!value.startsWith('{') && !value.startsWith('[')) return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function accessTokenOf(req: IncomingMessage, params: Record<string, unknown>): string | undefined {
  const header = req.headers.authorization;
  const match = header === undefined ? null : /^(?:Bearer|OAuth)\s+(\S+)$/i.exec(header);
  if (match?.[1] !== undefined) return match[1];
  return typeof params.access_token === 'string' ? params.access_token : undefined;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}
