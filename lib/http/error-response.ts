import type { MiddlewareObj } from '@middy/core';
import { InvalidInputError, NotFoundError, RefusedError, UpstreamError } from '../domain/errors.ts';
import type { Log } from '../log.ts';
import { type ApiResult, json } from './api-gateway.ts';
import { HttpError } from './http-error.ts';

/** The status of each refusal the admin API gives; any other refusal is 409. */
const REFUSAL_STATUS: Readonly<Record<string, number>> = {
  outside_window: 422,
  person_unreachable: 422,
  page_barred: 403,
  meta_rate_limited: 429,
};

const UPSTREAM_STATUS: Readonly<Record<UpstreamError['code'], number>> = {
  meta_unavailable: 502,
  meta_error: 502,
  meta_timeout: 504,
};

/** What one error answers: `{"error":{"code","message","retryAt"?}}` with this status. */
interface ErrorAnswer {
  status: number;
  code: string;
  message: string;
  /** Epoch ms from which a retry may succeed. */
  retryAt?: number | undefined;
}

/**
 * Turns any error into `{"error":{"code","message"}}`: 4xx with the reason for bad input or
 * the rule that refused (and when to retry, if known), 502/504 naming Meta's failure, and a
 * generic 500 (logged, never echoed) for everything else.
 */
export function errorResponse(log: Log): MiddlewareObj<unknown, ApiResult> {
  return {
    name: 'errorResponse',
    onError: (request) => {
      const error = request.error;
      const { status, code, message, retryAt } = describe(error);
      if (error instanceof UpstreamError) {
        // Not `message`: Powertools drops that reserved key, and with it what Meta did.
        log.warn('Meta call failed', { code: error.code, reason: error.message });
      } else if (status >= 500) {
        log.error('request failed', {
          error:
            error instanceof Error
              ? { name: error.name, message: error.message, stack: error.stack }
              : String(error),
        });
      }
      // Returning the answer ends the error chain, wherever this middleware sits in it.
      return json(status, {
        error: {
          code,
          message,
          ...(retryAt !== undefined && { retryAt: new Date(retryAt).toISOString() }),
        },
      });
    },
  };
}

/** The one table from error to answer. */
function describe(error: unknown): ErrorAnswer {
  if (error instanceof HttpError) return error;
  if (error instanceof InvalidInputError)
    return { status: 400, code: error.code, message: error.message };
  if (error instanceof NotFoundError)
    return { status: 404, code: 'not_found', message: error.message };
  if (error instanceof RefusedError) {
    const status = REFUSAL_STATUS[error.code] ?? 409;
    return { status, code: error.code, message: error.message, retryAt: error.retryAt };
  }
  if (error instanceof UpstreamError)
    return { status: UPSTREAM_STATUS[error.code], code: error.code, message: error.message };
  return { status: 500, code: 'internal', message: 'internal error' };
}
