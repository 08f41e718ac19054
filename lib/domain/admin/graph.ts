import { NotFoundError, RefusedError, UpstreamError } from '../errors.ts';
import { type GraphCallResult, metaErrorFor } from '../meta-errors.ts';

/** The opt-in template's fields (META_PLATFORM.md section 2). */
export interface OptInTemplate {
  title: string;
  /** Our topic id, echoed back in the opt-in webhook. */
  payload: string;
  ctaText: OptInCtaText;
  /** The Page's zone. */
  timezone: string;
  imageUrl?: string;
}

export const OPT_IN_CTA_TEXTS = ['ALLOW', 'GET', 'GET_UPDATES', 'OPT_IN', 'SIGN_UP'] as const;
export type OptInCtaText = (typeof OPT_IN_CTA_TEXTS)[number];

/** One token of `GET /{page}/notification_message_tokens`, instants in epoch ms. */
export interface TokenNode {
  token: string;
  psid: string;
  /** `topic_title`: the opt-in's title on the legacy route; a default on the MM API. */
  title?: string;
  createdAt: number;
  expiresAt?: number;
  tokenStatus?: string;
  timezone?: string;
}

/** One page of the token list. */
export interface TokenPage {
  tokens: TokenNode[];
  /** Elements that were not token nodes. */
  malformed: number;
  /** The cursor of the next page, when there is one. */
  after?: string;
}

/** What `debug_token` says of an access token. */
export interface TokenDebug {
  valid: boolean;
  /** The app the token was issued for. */
  appId?: string;
  scopes: string[];
}

/** One app subscribed to a Page's webhooks, with its fields. */
export interface SubscribedApp {
  appId: string;
  fields: string[];
}

/** A Marketing Message API campaign as Graph reads it. */
export interface CampaignInfo {
  /** `effective_status` when Graph gives it, else `status`: `ACTIVE`, `PAUSED`, ... */
  status: string;
  /** Epoch ms. */
  createdAt?: number;
}

/** The reads that check a Page's setup at Meta; tokens go in headers, never in answers. */
export interface SetupGraph {
  /** `GET /{page-id}?fields=id,name` with the Page's token. */
  readPage(request: {
    pageId: string;
    accessToken: string;
  }): Promise<GraphCallResult<{ id: string; name?: string }>>;
  /** `GET /debug_token` about the token itself. */
  debugToken(request: { accessToken: string }): Promise<GraphCallResult<TokenDebug>>;
  /** `GET /{page-id}/subscribed_apps`. */
  subscribedApps(request: {
    pageId: string;
    accessToken: string;
  }): Promise<GraphCallResult<SubscribedApp[]>>;
  /** `GET act_<id>?fields=account_status`. */
  readAdAccount(request: {
    adAccountId: string;
    accessToken: string;
  }): Promise<GraphCallResult<{ accountStatus: number }>>;
  /** `GET <campaign-id>?fields=status,effective_status,created_time`. */
  readCampaign(request: {
    campaignId: string;
    accessToken: string;
  }): Promise<GraphCallResult<CampaignInfo>>;
}

/** Meta's Graph API, for what operators do: opt-in requests, the token list, setup checks. */
export interface AdminGraph extends SetupGraph {
  requestOptIn(request: {
    pageId: string;
    accessToken: string;
    psid: string;
    template: OptInTemplate;
  }): Promise<GraphCallResult<{ messageId?: string }>>;
  /**
   * One page of the token list; `onePerPerson` asks Meta for one token per person
   * (`do_not_return_duplicates`, the MM route), which caps the whole list at 10,000.
   */
  listTokens(request: {
    pageId: string;
    accessToken: string;
    limit: number;
    after?: string;
    onePerPerson?: boolean;
  }): Promise<GraphCallResult<TokenPage>>;
  /**
   * `POST /{page}/messaging_customer_base/unsubscribe` for these PSIDs: Meta stops their
   * tokens on the Page; `invalidRows` counts the PSIDs Meta did not take.
   */
  unsubscribe(request: {
    pageId: string;
    accessToken: string;
    psids: readonly string[];
  }): Promise<GraphCallResult<{ invalidRows: number }>>;
}

/**
 * Turns a failed Graph call into the error the operator gets: a refusal naming the rule (and
 * when to retry, if known), or an upstream failure. Meta's own message is never repeated (it
 * may quote what was sent); its code, subcode and trace id are.
 */
export function metaCallFailure(
  what: string,
  result: Exclude<GraphCallResult<unknown>, { kind: 'ok' }>,
  now: number,
): Error {
  if (result.kind === 'unanswered') {
    return result.requestLeft
      ? new UpstreamError(`${what}: Meta did not answer (${result.cause})`, 'meta_timeout')
      : new UpstreamError(
          `${what}: Meta could not be reached (${result.cause})`,
          'meta_unavailable',
        );
  }
  const error = result.error;
  if (!error) {
    return new UpstreamError(
      `${what}: Meta answered HTTP ${result.status} without an error body`,
      result.status >= 500 ? 'meta_unavailable' : 'meta_error',
    );
  }
  const ref = `Meta error ${error.code}${error.subcode === undefined ? '' : `/${error.subcode}`}${error.fbtraceId ? `, fbtrace_id ${error.fbtraceId}` : ''}`;
  const refused = (code: string, reason: string, retryAt?: number) =>
    new RefusedError(`${what}: ${reason} (${ref})`, code, retryAt);
  const entry = metaErrorFor(error, 'admin');
  if (entry.transient) {
    return new UpstreamError(`${what}: Meta failed on its side (${ref})`, 'meta_unavailable');
  }
  switch (entry.outcome) {
    case 'outside-window':
      return refused(
        'outside_window',
        'the person has not written to the Page in the last 24 hours; retry when they write again',
      );
    case 'opt-in-too-soon':
      return refused(
        'too_soon',
        'Meta allows one opt-in request per title per person per 7 days',
        now + 7 * 86_400_000,
      );
    case 'opt-in-rate-limited':
      return refused('meta_rate_limited', 'too many opt-in requests; retry later');
    case 'page-barred':
      return refused('page_barred', 'Meta bars this Page from sending opt-in requests');
    case 'person-unknown':
      return new NotFoundError(`${what}: Meta knows no such person on this Page (${ref})`);
    case 'rate-limited':
      return refused('meta_rate_limited', 'Meta is rate limiting this Page; retry later');
    case 'page-token-invalid':
      return refused(
        'page_token_invalid',
        "the Page's access token is invalid: register a new one with PUT /admin/pages/{pageId}",
      );
    case 'page-restricted':
      return refused('page_restricted', 'Meta restricts this Page');
    case 'page-permission':
      return refused('page_not_permitted', "the Page's access token lacks a permission");
    case 'unreachable':
      return refused('person_unreachable', 'the person cannot be reached (blocked the Page?)');
    default:
      return new UpstreamError(`${what}: Meta refused the call (${ref})`, 'meta_error');
  }
}
