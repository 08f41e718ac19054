import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the stand-in received, as Meta would see it. */
export interface SeenRequest {
  /** Arrival time, epoch ms. */
  at: number;
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | undefined>;
  body: unknown;
  route: 'send_api' | 'marketing_messages' | 'other';
  /** The Page id or the ad account id in the path. */
  target: string;
  /** The person's token from the body, whichever route. */
  token?: string;
}

/** One programmed answer. */
export interface Answer {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Answers after this long instead of at once. */
  delayMs?: number;
  /** Never answers (until the stand-in closes): the request left, no answer comes. */
  hang?: boolean;
}

/** A Graph error answer in Meta's real shape. */
export function metaError(
  code: number,
  subcode?: number,
  options: { status?: number; message?: string; headers?: Record<string, string> } = {},
): Answer {
  return {
    status: options.status ?? 400,
    body: {
      error: {
        message: options.message ?? `(#${code}) error for the test`,
        type: 'OAuthException',
        code,
        ...(subcode !== undefined && { error_subcode: subcode }),
        fbtrace_id: `trace-${code}-${subcode ?? 0}`,
      },
    },
    ...(options.headers && { headers: options.headers }),
  };
}

/** `X-Business-Use-Case-Usage` as Meta sends it for a Page. */
export function businessUsage(
  target: string,
  usage: { callCount: number; regainMinutes?: number },
): Record<string, string> {
  return {
    'x-business-use-case-usage': JSON.stringify({
      [target]: [
        {
          type: 'pages',
          call_count: usage.callCount,
          total_cputime: Math.min(usage.callCount, 10),
          total_time: Math.min(usage.callCount, 10),
          estimated_time_to_regain_access: usage.regainMinutes ?? 0,
        },
      ],
    }),
  };
}

/**
 * Meta's Graph API for the sender's two send endpoints, on 127.0.0.1: records every request and
 * answers with the real success shapes unless an answer is programmed for the token.
 */
export async function startGraphStandIn() {
  const requests: SeenRequest[] = [];
  const programs = new Map<string, Answer[]>();
  const hanging = new Set<ServerResponse>();
  let served = 0;

  const server = createServer((req, res) => {
    void handle(req, res);
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const at = Date.now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://stand-in');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    const { route, target } = routeOf(url.pathname);
    const token = tokenOf(body);
    const seen: SeenRequest = {
      at,
      method: req.method ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { ...req.headers } as Record<string, string | undefined>,
      body,
      route,
      target,
      ...(token !== undefined && { token }),
    };
    requests.push(seen);
    const answer = (token !== undefined && programs.get(token)?.shift()) || success(route);
    if (answer.hang) {
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return;
    }
    const delay = answer.delayMs ?? 0;
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    res.writeHead(answer.status ?? 200, {
      'content-type': 'application/json',
      ...answer.headers,
    });
    res.end(JSON.stringify(answer.body ?? {}));
  }

  function success(route: SeenRequest['route']): Answer {
    served++;
    if (route === 'marketing_messages') {
      return { body: { success: true, marketing_message_tracking_id: `tracking-${served}` } };
    }
    return { body: { recipient_id: `recipient-${served}`, message_id: `m_${served}` } };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    /** Answers the next requests carrying `token` with `answers`, in order, then succeeds. */
    program(token: string, ...answers: Answer[]) {
      programs.set(token, [...(programs.get(token) ?? []), ...answers]);
    },
    /** Requests seen for one token. */
    requestsFor(token: string) {
      return requests.filter((request) => request.token === token);
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type GraphStandIn = Awaited<ReturnType<typeof startGraphStandIn>>;

function routeOf(path: string): { route: SeenRequest['route']; target: string } {
  const match = /^\/v\d+\.\d+\/([^/]+)\/messages$/.exec(path);
  const target = match?.[1];
  if (!target) return { route: 'other', target: '' };
  if (target.startsWith('act_')) return { route: 'marketing_messages', target };
  return { route: 'send_api', target };
}

function tokenOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const record = body as Record<string, Record<string, unknown> | undefined>;
  const token =
    record.recipient?.notification_messages_token ??
    record.messenger_delivery_data?.subscription_token;
  return typeof token === 'string' ? token : undefined;
}
