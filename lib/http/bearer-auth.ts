import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareObj } from '@middy/core';
import { type ApiEvent, type ApiResult, header } from './api-gateway.ts';
import { HttpError } from './http-error.ts';

/**
 * Requires `Authorization: Bearer <token>` when a token is configured (the local runtime);
 * without one it lets everything through, as on AWS where API Gateway's IAM authorizer has
 * already checked the caller. The comparison takes the same time whatever the guess.
 */
export function bearerAuth({
  token,
}: {
  token: string | undefined;
}): MiddlewareObj<ApiEvent, ApiResult> {
  const expected = token === undefined ? undefined : digest(token);
  return {
    name: 'bearerAuth',
    before: ({ event }) => {
      if (expected === undefined) return;
      const given = /^Bearer\s+(\S+)\s*$/i.exec(header(event, 'authorization') ?? '')?.[1];
      if (given === undefined) {
        throw new HttpError(401, 'unauthorized', 'send Authorization: Bearer <ADMIN_TOKEN>');
      }
      // Hashing first makes both sides the same length, so timingSafeEqual applies to any guess.
      if (!timingSafeEqual(digest(given), expected)) {
        throw new HttpError(401, 'unauthorized', 'the bearer token is not the admin token');
      }
    },
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
