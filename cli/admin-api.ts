import * as z from 'zod';
import { type ApiCall, type CliIo, UsageError, type Values } from './command.ts';
import { executeApiRegion, signForExecuteApi } from './sigv4.ts';

const DEFAULT_URL = 'http://localhost:3000';

/** How long the CLI waits for an answer, from the request sent to the whole body read. */
const TIMEOUT_MS = 60_000;

/** The admin API's error answer (`lib/http/error-response.ts` on the other side). */
const errorSchema = z.object({
  error: z.looseObject({
    code: z.string(),
    message: z.string(),
    retryAt: z.string().optional(),
  }),
});

/** What one call came to: the answer's JSON, or the exit code of a failure told on stderr. */
export type ApiAnswer = { ok: true; body: unknown } | { ok: false; exitCode: number };

/**
 * Makes one call to the admin API, authenticated for where it goes. A bad `--url` or a
 * missing region is a UsageError; no answer, an answer that is not JSON, or an error answer
 * is told on stderr (the error's JSON with `--json`).
 */
export async function callAdminApi(call: ApiCall, values: Values, io: CliIo): Promise<ApiAnswer> {
  const target = await prepare(call, values, io);
  let response: Response;
  let text: string;
  try {
    response = await fetch(target.url, {
      method: call.method,
      headers: target.headers,
      ...(target.body !== undefined && { body: target.body }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    text = await response.text();
  } catch (error: unknown) {
    const cause =
      error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
    io.stderr(`recurrent: cannot reach ${target.url.origin}: ${cause}\n`);
    return { ok: false, exitCode: 1 };
  }
  let body: unknown;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    io.stderr(
      `recurrent: HTTP ${response.status} from ${target.url.origin}, not JSON: ${text.slice(0, 200)}\n`,
    );
    return { ok: false, exitCode: 1 };
  }
  if (!response.ok) {
    return { ok: false, exitCode: failure(io, response.status, body, values.json === true) };
  }
  return { ok: true, body };
}

/** The URL, headers and body of a call, authenticated for where it goes. */
async function prepare(call: ApiCall, values: Values, io: CliIo) {
  const base = values.url ?? io.env.RECURRENT_URL ?? DEFAULT_URL;
  let root: URL;
  try {
    root = new URL(base);
  } catch {
    throw new UsageError(`--url ${base}: not a URL`);
  }
  // The AdminBaseUrl output ends in /admin/: requests name their /admin path themselves.
  const prefix = root.pathname.replace(/\/+$/, '').replace(/\/admin$/, '');
  const url = new URL(`${prefix}${call.path}`, root);
  for (const [name, value] of Object.entries(call.query ?? {})) {
    if (value !== undefined) url.searchParams.set(name, value);
  }
  const body = call.body === undefined ? undefined : JSON.stringify(call.body);
  const headers: Record<string, string> = {
    accept: 'application/json',
    ...(body !== undefined && { 'content-type': 'application/json' }),
  };
  const region = values.region ?? executeApiRegion(url) ?? io.env.AWS_REGION;
  if (values.aws || executeApiRegion(url) !== undefined) {
    if (region === undefined) throw new UsageError('--aws needs --region (or AWS_REGION)');
    return {
      url,
      headers: await signForExecuteApi(
        { method: call.method, url, headers, ...(body !== undefined && { body }) },
        region,
      ),
      ...(body !== undefined && { body }),
    };
  }
  const token = values.token ?? io.env.ADMIN_TOKEN;
  if (token !== undefined && token !== '') headers.authorization = `Bearer ${token}`;
  return { url, headers, ...(body !== undefined && { body }) };
}

/** Tells an error answer on stderr: its message and code, when to retry, and a hint. */
function failure(io: CliIo, status: number, body: unknown, asJson: boolean): number {
  if (asJson) {
    io.stderr(`${JSON.stringify(body, null, 2)}\n`);
    return 1;
  }
  const parsed = errorSchema.safeParse(body);
  if (!parsed.success) {
    io.stderr(`recurrent: HTTP ${status}\n`);
    return 1;
  }
  const { code, message, retryAt } = parsed.data.error;
  const hint =
    code === 'unauthorized' ? "\n  (set ADMIN_TOKEN or --token to the runtime's admin token)" : '';
  io.stderr(
    `recurrent: ${message} (${code}, HTTP ${status})${retryAt ? `\n  retry at ${retryAt}` : ''}${hint}\n`,
  );
  return 1;
}
