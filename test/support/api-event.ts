import type { ApiEvent } from '#lib/http/api-gateway.ts';

/** An API Gateway HTTP API (payload 2.0) event, as Lambda receives it. */
export function anApiEvent(overrides: {
  method?: string;
  path?: string;
  body?: string;
  isBase64Encoded?: boolean;
  headers?: Record<string, string>;
  query?: Record<string, string>;
}): ApiEvent {
  const method = overrides.method ?? 'POST';
  const path = overrides.path ?? '/webhook';
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: new URLSearchParams(overrides.query ?? {}).toString(),
    headers: overrides.headers ?? {},
    ...(overrides.query && { queryStringParameters: overrides.query }),
    ...(overrides.body !== undefined && { body: overrides.body }),
    isBase64Encoded: overrides.isBase64Encoded ?? false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'local',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: 'test',
      routeKey: '$default',
      stage: '$default',
      time: '21/Nov/2026:09:00:00 +0000',
      timeEpoch: 0,
    },
  };
}
