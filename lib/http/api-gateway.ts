import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

/** API Gateway HTTP API (payload 2.0) request, as Lambda and the local runtime both see it. */
export type ApiEvent = APIGatewayProxyEventV2;
export type ApiResult = APIGatewayProxyStructuredResultV2;

/** An API event the raw-body middleware has given the exact bytes that arrived. */
export type ApiEventWithRawBody = ApiEvent & { rawBody?: Buffer };

/** The raw bytes; a handler built without the raw-body middleware is a programming error. */
export function rawBytes(event: ApiEventWithRawBody): Buffer {
  if (!event.rawBody) throw new Error('the rawBody middleware must run before this handler');
  return event.rawBody;
}

/** A JSON answer. */
export function json(statusCode: number, body: unknown): ApiResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  };
}

/** A plain-text answer. */
export function text(statusCode: number, body: string): ApiResult {
  return { statusCode, headers: { 'content-type': 'text/plain; charset=utf-8' }, body };
}

/** Reads a header case-insensitively (API Gateway lower-cases them; the local server may not). */
export function header(event: ApiEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}
