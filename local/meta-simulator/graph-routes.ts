import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Log } from '#lib/log.ts';
import { type ArrivalClock, arrivalAgeMs } from './arrival-front.ts';
import type { Counters } from './counters.ts';
import type { Faults } from './faults.ts';
import { type Call, firstSegment, resolveCall } from './graph-calls.ts';
import { errorBody, type GraphErrorSpec, graphErrors, type RateLimitCode } from './graph-errors.ts';
import { newTraceId } from './ids.ts';
import type { MetaModel, SentMessage } from './model.ts';
import {
  CALLS_PER_ENGAGED_USER,
  type RateLimiter,
  regainMinutes,
  type UsageReading,
} from './rate-limiter.ts';

/**
 * The Graph API surface over node:http: the call resolved at the edge (`graph-calls.ts`), then
 * faults, access token, rate limit and injected errors in Meta's order, then the model. Every answer carries
 * `X-App-Usage` and `X-Business-Use-Case-Usage`.
 */

export interface GraphRoutesDeps {
  model: MetaModel;
  limiter: RateLimiter;
  faults: Faults;
  counters: Counters;
  rateLimitCode: RateLimitCode;
  log: Log;
  /** The rate limits' time, read as of each call's arrival while it is decided. */
  arrival: ArrivalClock;
  /** Waits out injected latency; default a real timer. */
  sleep?: (ms: number) => Promise<void>;
}

const MAX_BODY_BYTES = 4 * 1024 * 1024;

interface Answer {
  status: number;
  body: unknown;
  spec?: GraphErrorSpec;
  traceId?: string;
  regainMinutes?: number;
}

/** A node:http request listener answering as Meta's Graph API would. */
export function createGraphRoutes(deps: GraphRoutesDeps) {
  const { model, limiter, faults, counters, log, arrival } = deps;
  const hangs = new Set<NodeJS.Timeout>();
  const sleep =
    deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

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
        : resolveCall(model, req, url, raw);
    if (!('route' in resolved)) {
      writeAnswer(res, fail(resolved), firstSegment(url) ?? 'graph', deps);
      return;
    }
    const call = resolved;
    const latency = faults.latency(call.route);
    const fate = faults.draw(call.route);
    if (fate === 'server_error') {
      if (latency > 0) await sleep(latency);
      writeAnswer(
        res,
        fail(graphErrors.serviceUnavailable(faults.serverErrorStatus())),
        call.usageKey,
        deps,
      );
      return;
    }
    if (fate === 'timeout') {
      counters.timeout();
      if (faults.timeoutProcessesRequest()) {
        const { sent } = arrival.asOf(arrivalAgeMs(req), () => decide(call));
        if (sent) sent.answered = false;
      }
      const hang = setTimeout(() => {
        hangs.delete(hang);
        res.destroy();
      }, faults.hangMs());
      hangs.add(hang);
      return;
    }
    // Meta counts a call against the Page's rate as it arrives: decided now, answered after
    // the latency (its processing), so a late timer cannot move a call into another second.
    const { answer } = arrival.asOf(arrivalAgeMs(req), () => decide(call));
    if (latency > 0) await sleep(latency);
    writeAnswer(res, answer, call.usageKey, deps);
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

/** Writes an answer with Meta's usage headers for the Page it concerns. */
function writeAnswer(
  res: ServerResponse,
  answer: Answer,
  usageKey: string,
  { model, limiter }: Pick<GraphRoutesDeps, 'model' | 'limiter'>,
) {
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
