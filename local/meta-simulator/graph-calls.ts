import type { IncomingMessage } from 'node:http';
import * as z from 'zod';
import type { GraphRoute } from './faults.ts';
import { type GraphErrorSpec, graphErrors } from './graph-errors.ts';
import type { MetaModel, ModelResult } from './model.ts';
import { tokenListCall, unsubscribeCall } from './token-list-calls.ts';

/**
 * Graph requests resolved at the edge: the path names the route, parameters from the query
 * string and the body go through a schema once, and the call knows whom it concerns.
 */

/** One resolved call: its route, whom it concerns, and how to run it. */
export interface Call {
  route: GraphRoute;
  /** The Page the call counts against (rate limit, usage header, injected errors). */
  usageKey: string;
  token?: string;
  authorise(): GraphErrorSpec | undefined;
  run(): ModelResult<unknown>;
}

/** A request split into what every route needs. */
export interface Request {
  model: MetaModel;
  req: IncomingMessage;
  url: URL;
  method: string;
  params: Record<string, unknown>;
  accessToken: string | undefined;
  /** The path's object (a Page, `act_<id>`, `notification_messages_<TOKEN>`). */
  first: string;
  /** The path's edge (`messages`, `message_campaign`, ...), if any. */
  second: string | undefined;
}

const VERSION = /^v\d+(\.\d+)?$/;

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

/** The call a request makes, or the error Graph answers for a request it cannot route. */
export function resolveCall(
  model: MetaModel,
  req: IncomingMessage,
  url: URL,
  raw: Buffer,
): Call | GraphErrorSpec {
  const method = (req.method ?? 'GET').toUpperCase();
  const segments = url.pathname.split('/').filter((part) => part !== '');
  if (segments[0] !== undefined && VERSION.test(segments[0])) segments.shift();
  const params = paramsOf(url, raw, req.headers['content-type']);
  if (params === undefined)
    return graphErrors.invalidParameter('the request body is not valid JSON');
  const accessToken = accessTokenOf(req, params);
  const [first, second, ...rest] = segments.map(safeDecode);
  if (first === undefined) return graphErrors.unknownPath(url.pathname);
  const request: Request = { model, req, url, method, params, accessToken, first, second };
  if (
    method === 'POST' &&
    second === 'messaging_customer_base' &&
    rest.join('/') === 'unsubscribe'
  ) {
    return unsubscribeCall(request);
  }
  if (rest.length > 0) return graphErrors.unknownPath(url.pathname);

  if (method === 'POST' && second === 'messages' && first.startsWith('act_')) {
    return marketingCall(request);
  }
  if (method === 'POST' && second === 'message_campaign' && first.startsWith('act_')) {
    return campaignCall(request);
  }
  if (method === 'POST' && second === 'messages') return messagesCall(request);
  if (method === 'GET' && second === 'notification_message_tokens') return tokenListCall(request);
  if (method === 'GET' && second === undefined && first.startsWith('notification_messages_')) {
    return tokenReadCall(request);
  }
  if (method === 'GET') {
    const setupRead = setupReadCall(request);
    if (setupRead) return setupRead;
  }
  return graphErrors.unknownPath(url.pathname);
}

/** The path's first segment after the version: whom an unroutable request is counted against. */
export function firstSegment(url: URL): string | undefined {
  return url.pathname.split('/').find((part) => part !== '' && !VERSION.test(part));
}

/** `POST act_<id>/messages`: a Marketing Message API send. */
function marketingCall({ model, params, accessToken, method, first }: Request) {
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
  } satisfies Call;
}

/** `POST act_<id>/message_campaign`. */
function campaignCall({ model, params, accessToken, method, first }: Request) {
  const adAccountId = first.slice('act_'.length);
  const parsed = campaignParams.safeParse(params);
  if (!parsed.success) return invalid(parsed.error);
  const { name, page_id: pageId } = parsed.data;
  return {
    route: 'campaign',
    usageKey: pageId ?? first,
    authorise: () => model.authoriseAdAccount(adAccountId, accessToken, method),
    run: () => model.createCampaign(adAccountId, { name, pageId }),
  } satisfies Call;
}

/** `POST {page}/messages`: a token send, an opt-in request, or a normal message. */
function messagesCall({
  model,
  params,
  accessToken,
  method,
  first,
}: Request): Call | GraphErrorSpec {
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
  if (psid === undefined) return graphErrors.invalidParameter('param recipient must be non-empty');
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

/** `GET notification_messages_<TOKEN>`. */
function tokenReadCall({ model, accessToken, first }: Request): Call {
  const token = first.slice('notification_messages_'.length);
  return {
    route: 'token_read',
    usageKey: model.tokenPage(token) ?? first,
    token,
    authorise: () => model.authoriseTokenRead(token, accessToken),
    run: () => model.readToken(token),
  };
}

/**
 * The reads of a setup check: `debug_token`, `{page}/subscribed_apps`, `act_<id>`, a campaign,
 * a Page. Each needs the token that owns the object, as any other call on it does.
 */
function setupReadCall({ model, params, accessToken, first, second }: Request): Call | undefined {
  const read = (usageKey: string, authorise: Call['authorise'], run: Call['run']): Call => ({
    route: 'setup_read',
    usageKey,
    authorise,
    run,
  });
  if (first === 'debug_token' && second === undefined) {
    const input = typeof params.input_token === 'string' ? params.input_token : undefined;
    return read(
      first,
      () => model.authoriseToken(accessToken),
      () => model.debugToken(input),
    );
  }
  if (second === 'subscribed_apps') {
    return read(
      first,
      () => model.authorisePage(first, accessToken, 'GET'),
      () => model.subscribedApps(first),
    );
  }
  if (second !== undefined) return undefined;
  if (first.startsWith('act_')) {
    const adAccountId = first.slice('act_'.length);
    return read(
      first,
      () => model.authoriseAdAccount(adAccountId, accessToken, 'GET'),
      () => model.readAdAccount(adAccountId),
    );
  }
  const campaignAccount = model.campaignAccount(first);
  if (campaignAccount !== undefined) {
    return read(
      first,
      () => model.authoriseAdAccount(campaignAccount, accessToken, 'GET'),
      () => model.readCampaign(first),
    );
  }
  return read(
    first,
    () => model.authorisePage(first, accessToken, 'GET'),
    () => model.readPage(first),
  );
}

/** Graph's answer to parameters its schema refuses. */
export function invalid(error: z.ZodError): GraphErrorSpec {
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
