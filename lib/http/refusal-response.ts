import type { MiddlewareObj } from '@middy/core';
import { UpstreamError } from '../domain/admin/graph.ts';
import { RefusedError } from '../domain/errors.ts';
import type { Log } from '../log.ts';
import { type ApiResult, json } from './api-gateway.ts';

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

/**
 * Answers refusals with the rule that refused and, when known, when to retry (`retryAt`), and
 * Meta's failures with 502/504; runs before `errorResponse`, which answers everything else.
 */
export function refusalResponse(log: Log): MiddlewareObj<unknown, ApiResult> {
  return {
    name: 'refusalResponse',
    onError: (request) => {
      const error = request.error;
      if (error instanceof RefusedError) {
        // Returning the answer ends the error chain: errorResponse would drop `retryAt`.
        return json(REFUSAL_STATUS[error.code] ?? 409, {
          error: {
            code: error.code,
            message: error.message,
            ...(error.retryAt !== undefined && { retryAt: new Date(error.retryAt).toISOString() }),
          },
        });
      }
      if (error instanceof UpstreamError) {
        log.warn('Meta call failed', { code: error.code, message: error.message });
        return json(UPSTREAM_STATUS[error.code], {
          error: { code: error.code, message: error.message },
        });
      }
      return undefined;
    },
  };
}
