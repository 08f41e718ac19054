/** Why the simulator refused a call: the key of the rejection counters. */
export type RejectReason =
  | 'auth'
  | 'not_found'
  | 'invalid_request'
  | 'window'
  | 'optin_limit'
  | 'cooldown'
  | 'stopped'
  | 'invalid_token'
  | 'blocked'
  | 'region'
  | 'frequency_cap'
  | 'rate_limited'
  | 'server_error'
  | 'injected';

/** One Graph error answer before it gets its trace id: status, body fields, and why. */
export interface GraphErrorSpec {
  status: number;
  code: number;
  subcode?: number;
  message: string;
  type: string;
  reason: RejectReason;
  isTransient?: boolean;
  errorData?: Record<string, unknown>;
  /** The rule of Meta's this call broke, when it broke one (`rule-refusals.ts`). */
  rule?: RuleBreach;
}

/**
 * The rules of Meta's a call can break, as the refused-by-rule counter names them: a sender
 * that keeps Meta's rules never breaks one, except a person's first frequency cap of a day.
 */
export type RuleBreach =
  | 'cooldown'
  | 'stopped'
  /** The first refusal after an MM opt-out, of which no webhook told: counted apart. */
  | 'unannounced_stop'
  | 'dead_token'
  | 'frequency_cap'
  | 'page_ceiling'
  | 'optin_limit';

/** `error_data.remaining_seconds`: whole seconds until `until`, at least 1 while refused. */
function remaining(until: number, now: number): Record<string, unknown> {
  return { remaining_seconds: Math.max(1, Math.ceil((until - now) / 1000)) };
}

/** The wire shape: `{"error":{"message","type","code","error_subcode"?,"fbtrace_id"}}`. */
export interface GraphErrorBody {
  error: {
    message: string;
    type: string;
    code: number;
    error_subcode?: number;
    is_transient?: boolean;
    error_data?: Record<string, unknown>;
    fbtrace_id: string;
  };
}

/** The JSON body Meta answers for an error. */
export function errorBody(spec: GraphErrorSpec, fbtraceId: string): GraphErrorBody {
  return {
    error: {
      message: spec.message,
      type: spec.type,
      code: spec.code,
      ...(spec.subcode !== undefined && { error_subcode: spec.subcode }),
      ...(spec.isTransient !== undefined && { is_transient: spec.isTransient }),
      ...(spec.errorData !== undefined && { error_data: spec.errorData }),
      fbtrace_id: fbtraceId,
    },
  };
}

const OAUTH = 'OAuthException';

/** Meta's errors as the simulator answers them (META_PLATFORM.md sections 2, 4, 5). */
export const graphErrors = {
  invalidAccessToken: (): GraphErrorSpec => ({
    status: 400,
    code: 190,
    type: OAUTH,
    reason: 'auth',
    message: 'Invalid OAuth access token - Cannot parse access token',
  }),
  unknownObject: (id: string, method: string): GraphErrorSpec => ({
    status: 400,
    code: 100,
    subcode: 33,
    type: 'GraphMethodException',
    reason: 'not_found',
    message: `Unsupported ${method.toLowerCase()} request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
  }),
  unknownPath: (path: string): GraphErrorSpec => ({
    status: 400,
    code: 2500,
    type: OAUTH,
    reason: 'invalid_request',
    message: `Unknown path components: ${path}`,
  }),
  invalidParameter: (message: string): GraphErrorSpec => ({
    status: 400,
    code: 100,
    type: OAUTH,
    reason: 'invalid_request',
    message: `(#100) ${message}`,
  }),
  noMatchingUser: (): GraphErrorSpec => ({
    status: 400,
    code: 100,
    subcode: 2018001,
    type: OAUTH,
    reason: 'invalid_request',
    message: '(#100) No matching user found',
  }),
  outsideWindow: (subcode: 2534022 | 2018278): GraphErrorSpec => ({
    status: 400,
    code: 10,
    subcode,
    type: OAUTH,
    reason: 'window',
    message:
      '(#10) This message is sent outside of allowed window. Learn more about the new policy here: https://developers.facebook.com/docs/messenger-platform/policy-overview',
  }),
  optInLimit: (): GraphErrorSpec => ({
    status: 400,
    code: 613,
    subcode: 1893016,
    type: OAUTH,
    reason: 'optin_limit',
    rule: 'optin_limit',
    message:
      '(#613) You can only send one notification messages request per topic to a person every 7 days.',
  }),
  invalidToken: (): GraphErrorSpec => ({
    status: 400,
    code: 100,
    type: OAUTH,
    reason: 'invalid_token',
    rule: 'dead_token',
    message: '(#100) The notification messages token is invalid or has expired.',
  }),
  stopped: (): GraphErrorSpec => ({
    status: 400,
    code: 10,
    subcode: 1893015,
    type: OAUTH,
    reason: 'stopped',
    rule: 'stopped',
    message: '(#10) This person has stopped notification messages for this topic.',
  }),
  /**
   * The person opted out of marketing messages from the Page. The MM API sends no webhook for
   * it, so the first refusal since the opt-out is no sender's fault (`first`).
   */
  marketingStopped: (first: boolean): GraphErrorSpec => ({
    status: 400,
    code: 2300034,
    type: OAUTH,
    reason: 'stopped',
    rule: first ? 'unannounced_stop' : 'stopped',
    message: 'The person has opted out of marketing messages from this Page.',
  }),
  blocked: (variant: BlockedError): GraphErrorSpec =>
    variant === '551'
      ? {
          status: 400,
          code: 551,
          subcode: 1545041,
          type: OAUTH,
          reason: 'blocked',
          message: "(#551) This person isn't available right now.",
        }
      : {
          status: 400,
          code: 200,
          subcode: 1545041,
          type: OAUTH,
          reason: 'blocked',
          message: '(#200) The person has blocked messages from this Page.',
        },
  legacyCooldown: (until: number, showNext: boolean): GraphErrorSpec => ({
    status: 400,
    code: 4,
    subcode: 2018354,
    type: OAUTH,
    reason: 'cooldown',
    rule: 'cooldown',
    message:
      '(#4) Notification messages limit reached: this token cannot be used again yet for this topic.',
    // The legacy error carries no remaining_seconds; the undocumented next time only if asked.
    ...(showNext && { errorData: { next_eligible_time: Math.floor(until / 1000) } }),
  }),
  /** Too early on the MM API: 2300035 (2300052 only where a test asks for the old answer). */
  marketingCooldown: (
    until: number,
    now: number,
    showNext: boolean,
    code: MarketingCooldownCode,
  ): GraphErrorSpec => ({
    status: 400,
    code,
    type: OAUTH,
    reason: 'cooldown',
    rule: 'cooldown',
    message: 'Marketing message frequency limit reached for this subscription token.',
    errorData: {
      ...remaining(until, now),
      ...(showNext && { next_eligible_time: Math.floor(until / 1000) }),
    },
  }),
  /** Meta's frequency caps (META_PLATFORM.md 4.3); whether the sender could foresee it is the counter's call. */
  frequencyCap: (cap: FrequencyCap): GraphErrorSpec => ({
    status: 400,
    code: FREQUENCY_CAP_CODES[cap],
    type: OAUTH,
    reason: 'frequency_cap',
    rule: 'frequency_cap',
    message: `${cap}: this person has received too many marketing messages for now.`,
  }),
  /** Over the per-Page ceiling of about 40 messages a second: the Page cannot send for a while. */
  pageCeiling: (
    route: 'send_api' | 'marketing_messages',
    until: number,
    now: number,
  ): GraphErrorSpec => ({
    status: 400,
    code: route === 'send_api' ? 32 : 2300078,
    type: OAUTH,
    reason: 'rate_limited',
    rule: 'page_ceiling',
    isTransient: true,
    message:
      route === 'send_api'
        ? '(#32) Page request limit reached: this Page cannot send new messages until the volume decreases.'
        : 'Marketing message send rate limit reached for this Page.',
    errorData: remaining(until, now),
  }),
  regionNotServed: (): GraphErrorSpec => ({
    status: 400,
    code: 3,
    type: OAUTH,
    reason: 'region',
    message: '(#3) Application does not have the capability to make this API call.',
  }),
  rateLimited: (code: RateLimitCode): GraphErrorSpec => ({
    status: 400,
    code,
    type: OAUTH,
    reason: 'rate_limited',
    isTransient: true,
    message: RATE_LIMIT_MESSAGES[code],
  }),
  serviceUnavailable: (status: 500 | 503): GraphErrorSpec => ({
    status,
    code: 2,
    type: OAUTH,
    reason: 'server_error',
    isTransient: true,
    message: 'Service temporarily unavailable',
  }),
} as const;

/** How an early MM send is answered: 2300035 as Meta documents it, or 2300052 as before. */
export type MarketingCooldownCode = 2300035 | 2300052;

/** Meta's three frequency caps, by their documented names. */
export type FrequencyCap =
  | 'WEEKLY_MM_LOAD_CAP_REACHED'
  | 'DAILY_MM_LOAD_CAP_REACHED'
  | 'MIN_ORGANIC_THREAD_NOT_REACHED';

/** Meta's numbers for the caps, in the order of their names (the mapping is unsure at Meta). */
const FREQUENCY_CAP_CODES: Record<FrequencyCap, number> = {
  WEEKLY_MM_LOAD_CAP_REACHED: 2300042,
  DAILY_MM_LOAD_CAP_REACHED: 2300043,
  MIN_ORGANIC_THREAD_NOT_REACHED: 2300044,
};

/** The codes Meta uses for throttling (META_PLATFORM.md section 5). */
export type RateLimitCode = 4 | 32 | 613 | 80006;

/** How "the person blocked the Page" comes back: 551/1545041 or 200/1545041. */
export type BlockedError = '551' | '200/1545041';

const RATE_LIMIT_MESSAGES: Record<RateLimitCode, string> = {
  4: '(#4) Application request limit reached',
  32: '(#32) Page request limit reached',
  613: '(#613) Calls to this api have exceeded the rate limit.',
  80006:
    '(#80006) There have been too many messages sent to this Messenger user. Please wait a while before sending more messages.',
};
