import type { MiddlewareObj } from '@middy/core';
import { InvalidInputError, NotFoundError, RefusedError } from '../domain/errors.ts';
import type { Log } from '../log.ts';
import { type ApiResult, json } from './api-gateway.ts';
import { HttpError } from './http-error.ts';

/**
 * Turns any error into `{"error":{"code","message"}}`: 4xx with the reason for bad input,
 * a generic 500 (logged, never echoed) for everything else.
 */
export function errorResponse(log: Log): MiddlewareObj<unknown, ApiResult> {
  return {
    name: 'errorResponse',
    onError: (request) => {
      const { status, code, message } = describe(request.error);
      if (status >= 500) {
        const error = request.error;
        log.error('request failed', {
          error:
            error instanceof Error
              ? { name: error.name, message: error.message, stack: error.stack }
              : String(error),
        });
      }
      request.response = json(status, { error: { code, message } });
    },
  };
}

function describe(error: unknown): { status: number; code: string; message: string } {
  if (error instanceof HttpError) return error;
  if (error instanceof InvalidInputError)
    return { status: 400, code: error.code, message: error.message };
  if (error instanceof NotFoundError)
    return { status: 404, code: 'not_found', message: error.message };
  if (error instanceof RefusedError)
    return { status: 409, code: error.code, message: error.message };
  return { status: 500, code: 'internal', message: 'internal error' };
}
