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
    message:
      '(#613) You can only send one notification messages request per topic to a person every 7 days.',
  }),
  invalidToken: (): GraphErrorSpec => ({
    status: 400,
    code: 100,
    type: OAUTH,
    reason: 'invalid_token',
    message: '(#100) The notification messages token is invalid or has expired.',
  }),
  stopped: (): GraphErrorSpec => ({
    status: 400,
    code: 10,
    subcode: 1893015,
    type: OAUTH,
    reason: 'stopped',
    message: '(#10) This person has stopped notification messages for this topic.',
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
  legacyCooldown: (nextEligibleAt: number | undefined): GraphErrorSpec => ({
    status: 400,
    code: 4,
    subcode: 2018354,
    type: OAUTH,
    reason: 'cooldown',
    message:
      '(#4) Notification messages limit reached: this token cannot be used again yet for this topic.',
    ...(nextEligibleAt !== undefined && {
      errorData: { next_eligible_time: Math.floor(nextEligibleAt / 1000) },
    }),
  }),
  marketingCooldown: (nextEligibleAt: number | undefined): GraphErrorSpec => ({
    status: 400,
    code: 2300052,
    type: OAUTH,
    reason: 'cooldown',
    message: 'Marketing message frequency limit reached for this subscription token.',
    ...(nextEligibleAt !== undefined && {
      errorData: { next_eligible_time: Math.floor(nextEligibleAt / 1000) },
    }),
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
