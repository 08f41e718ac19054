import type { MiddlewareObj } from '@middy/core';
import type { ApiEventWithRawBody, ApiResult } from './api-gateway.ts';
import { HttpError } from './http-error.ts';

/**
 * Keeps the body's exact bytes (base64-decoded when API Gateway encoded them) before any
 * parser touches it, and refuses bodies over `maxBytes` with 413.
 */
export function rawBody({
  maxBytes,
}: {
  maxBytes: number;
}): MiddlewareObj<ApiEventWithRawBody, ApiResult> {
  return {
    name: 'rawBody',
    before: ({ event }) => {
      const source = event.body ?? '';
      const bytes = Buffer.from(source, event.isBase64Encoded ? 'base64' : 'utf8');
      if (bytes.length > maxBytes) {
        throw new HttpError(
          413,
          'body_too_large',
          `body is ${bytes.length} bytes; the limit is ${maxBytes}`,
        );
      }
      event.rawBody = bytes;
    },
  };
}
