import type { GraphErrorSpec, RateLimitCode } from './graph-errors.ts';

/** The Graph calls the simulator answers, as fault filters and counters name them. */
export type GraphRoute =
  | 'optin_request'
  | 'send_api'
  | 'standard'
  | 'marketing_messages'
  | 'campaign'
  | 'token_list'
  | 'unsubscribe'
  | 'token_read'
  | 'setup_read';

/** An error to answer instead of the real outcome, for a token, a Page or a route. */
export interface InjectedError {
  token?: string;
  pageId?: string;
  route?: GraphRoute;
  code: number;
  subcode?: number;
  message?: string;
  /** Default: 500 for codes 1 and 2, else 400. */
  status?: number;
  /** How many calls get it; default every call until the rule is replaced. */
  times?: number;
}

/** Failures Meta produces that the runtime must survive; every rate is a chance per call. */
export interface FaultConfig {
  /** Chance of a `{"code":2,...,"is_transient":true}` answer with HTTP 500 or 503. */
  serverErrorRate?: number;
  /** Which 5xx; default 'mixed' (half each). */
  serverErrorStatus?: 500 | 503 | 'mixed';
  /** Added before every answer (real ms). */
  latencyMs?: number;
  /** Chance that a call never gets an answer: the connection hangs, then is cut. */
  timeoutRate?: number;
  /** How long a hung call hangs before its connection is cut (real ms); default 30000. */
  hangMs?: number;
  /** Whether Meta acts on a call it never answers (a send happens); default true. */
  timeoutProcessesRequest?: boolean;
  /** Which routes latency, timeouts and 5xx apply to; default all. */
  routes?: readonly GraphRoute[];
  /** Specific errors; replaced as a whole by `setFaults({ errors })`. */
  errors?: InjectedError[];
}

/** Rate-limit errors for the next `calls` calls and/or the next `forMs` real ms, whichever ends first. */
export interface RateLimitBurst {
  /** Only this Page's calls; default every Page. */
  pageId?: string;
  calls?: number;
  forMs?: number;
  /** `estimated_time_to_regain_access`; default 1. */
  regainMinutes?: number;
  /** Default: the simulator's rate-limit code. */
  code?: RateLimitCode;
}

interface ActiveBurst {
  pageId?: string;
  callsLeft?: number;
  until?: number;
  regainMinutes: number;
  code?: RateLimitCode;
}

export type Faults = ReturnType<typeof createFaults>;

/** Holds the fault configuration and draws each call's fate from `random`. */
export function createFaults(options: {
  initial?: FaultConfig;
  random?: () => number;
  realNow?: () => number;
}) {
  const random = options.random ?? Math.random;
  const realNow = options.realNow ?? (() => performance.now());
  let config: FaultConfig = { ...options.initial };
  let errors: InjectedError[] = (options.initial?.errors ?? []).map((rule) => ({ ...rule }));
  let bursts: ActiveBurst[] = [];

  function applies(route: GraphRoute): boolean {
    return config.routes === undefined || config.routes.includes(route);
  }

  return {
    /** The configuration in force (a copy). */
    current(): FaultConfig {
      return { ...config, errors: errors.map((rule) => ({ ...rule })) };
    },

    /** Changes some settings; `errors`, when given, replaces the injected errors. */
    update(patch: FaultConfig): void {
      const { errors: nextErrors, ...rest } = patch;
      config = { ...config, ...rest };
      if (nextErrors !== undefined) errors = nextErrors.map((rule) => ({ ...rule }));
    },

    /** Adds one injected error rule. */
    addError(rule: InjectedError): void {
      errors.push({ ...rule });
    },

    /** Starts a rate-limit burst. */
    addBurst(burst: RateLimitBurst): void {
      if (burst.calls === undefined && burst.forMs === undefined) {
        throw new RangeError('a rate-limit burst needs calls or forMs');
      }
      bursts.push({
        ...(burst.pageId !== undefined && { pageId: burst.pageId }),
        ...(burst.calls !== undefined && { callsLeft: burst.calls }),
        ...(burst.forMs !== undefined && { until: realNow() + burst.forMs }),
        regainMinutes: burst.regainMinutes ?? 1,
        ...(burst.code !== undefined && { code: burst.code }),
      });
    },

    /** Real ms to wait before answering this call. */
    latency(route: GraphRoute): number {
      return applies(route) ? Math.max(0, config.latencyMs ?? 0) : 0;
    },

    /** Whether this call hangs, fails with a 5xx, or goes on. */
    draw(route: GraphRoute): 'timeout' | 'server_error' | undefined {
      if (!applies(route)) return undefined;
      if ((config.timeoutRate ?? 0) > 0 && random() < (config.timeoutRate ?? 0)) return 'timeout';
      if ((config.serverErrorRate ?? 0) > 0 && random() < (config.serverErrorRate ?? 0)) {
        return 'server_error';
      }
      return undefined;
    },

    /** The status of an injected 5xx. */
    serverErrorStatus(): 500 | 503 {
      const status = config.serverErrorStatus ?? 'mixed';
      if (status !== 'mixed') return status;
      return random() < 0.5 ? 500 : 503;
    },

    hangMs(): number {
      return config.hangMs ?? 30_000;
    },

    timeoutProcessesRequest(): boolean {
      return config.timeoutProcessesRequest ?? true;
    },

    /** Consumes one call of a burst covering this Page, if one is on. */
    takeBurst(pageId: string): { regainMinutes: number; code?: RateLimitCode } | undefined {
      const now = realNow();
      bursts = bursts.filter(
        (burst) =>
          (burst.callsLeft === undefined || burst.callsLeft > 0) &&
          (burst.until === undefined || now < burst.until),
      );
      const burst = bursts.find((b) => b.pageId === undefined || b.pageId === pageId);
      if (!burst) return undefined;
      if (burst.callsLeft !== undefined) burst.callsLeft -= 1;
      return {
        regainMinutes: burst.regainMinutes,
        ...(burst.code !== undefined && { code: burst.code }),
      };
    },

    /** Consumes the first injected error matching this call, if any. */
    takeError(call: {
      route: GraphRoute;
      pageId?: string;
      token?: string;
    }): GraphErrorSpec | undefined {
      const index = errors.findIndex(
        (rule) =>
          (rule.times === undefined || rule.times > 0) &&
          (rule.route === undefined || rule.route === call.route) &&
          (rule.pageId === undefined || rule.pageId === call.pageId) &&
          (rule.token === undefined || rule.token === call.token),
      );
      const rule = errors[index];
      if (!rule) return undefined;
      if (rule.times !== undefined) {
        rule.times -= 1;
        if (rule.times <= 0) errors.splice(index, 1);
      }
      return injectedSpec(rule);
    },
  };
}

/** The Graph error an injected rule answers; codes 1 and 2 are Meta's transient ones. */
function injectedSpec(rule: InjectedError): GraphErrorSpec {
  const transient = rule.code === 1 || rule.code === 2;
  return {
    status: rule.status ?? (transient ? 500 : 400),
    code: rule.code,
    ...(rule.subcode !== undefined && { subcode: rule.subcode }),
    type: 'OAuthException',
    reason: 'injected',
    ...(transient && { isTransient: true }),
    message: rule.message ?? `(#${rule.code}) Error injected by the Meta simulator`,
  };
}
