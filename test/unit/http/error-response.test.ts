import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  InvalidInputError,
  NotFoundError,
  RefusedError,
  UpstreamError,
} from '#lib/domain/errors.ts';
import type { ApiResult } from '#lib/http/api-gateway.ts';
import { errorResponse } from '#lib/http/error-response.ts';
import { HttpError } from '#lib/http/http-error.ts';
import { captureLog } from '../../support/capture-log.ts';

const RETRY_AT = Date.parse('2026-11-28T09:00:00Z');

async function answerTo(error: unknown) {
  const log = captureLog();
  const handler = middy<unknown, ApiResult>()
    .use(errorResponse(log))
    .handler(async () => {
      throw error;
    });
  const result = await handler({}, {} as Context);
  return { status: result.statusCode, body: JSON.parse(result.body ?? ''), log };
}

describe('the error-to-response middleware', () => {
  it.each([
    [new HttpError(413, 'body_too_large', 'body over 10 bytes'), 413, 'body_too_large'],
    [new InvalidInputError('title: required'), 400, 'invalid_input'],
    [new InvalidInputError('body: not valid JSON', 'malformed_json'), 400, 'malformed_json'],
    [new NotFoundError('Page 1 is not registered'), 404, 'not_found'],
    [new RefusedError('a title taken', 'title_taken'), 409, 'title_taken'],
    [new RefusedError('not in the window', 'outside_window'), 422, 'outside_window'],
    [new RefusedError('blocked', 'person_unreachable'), 422, 'person_unreachable'],
    [new RefusedError('barred', 'page_barred'), 403, 'page_barred'],
    [new RefusedError('slow down', 'meta_rate_limited'), 429, 'meta_rate_limited'],
    [new UpstreamError('Meta could not be reached', 'meta_unavailable'), 502, 'meta_unavailable'],
    [new UpstreamError('Meta refused the call', 'meta_error'), 502, 'meta_error'],
    [new UpstreamError('Meta did not answer', 'meta_timeout'), 504, 'meta_timeout'],
  ])('answers %s with %i and its code and message', async (error, status, code) => {
    const answer = await answerTo(error);

    expect(answer.status).toBe(status);
    expect(answer.body).toEqual({ error: { code, message: error.message } });
  });

  it('gives a refusal its retry time when it has one', async () => {
    const answer = await answerTo(new RefusedError('once per 7 days', 'too_soon', RETRY_AT));

    expect(answer.status).toBe(409);
    expect(answer.body).toEqual({
      error: {
        code: 'too_soon',
        message: 'once per 7 days',
        retryAt: new Date(RETRY_AT).toISOString(),
      },
    });
  });

  it('answers anything else with a generic 500 and logs what it hides', async () => {
    const answer = await answerTo(new Error('table recurrent: connection reset'));

    expect(answer.status).toBe(500);
    expect(answer.body).toEqual({ error: { code: 'internal', message: 'internal error' } });
    expect(answer.log.entries).toMatchObject([
      { level: 'error', message: 'request failed', error: { name: 'Error' } },
    ]);
    expect(answer.log.lines[0]).toContain('connection reset');
  });

  it("logs Meta's failures as warnings and bad input not at all", async () => {
    const upstream = await answerTo(new UpstreamError('Meta did not answer', 'meta_timeout'));
    const invalid = await answerTo(new InvalidInputError('title: required'));

    expect(upstream.log.entries).toEqual([
      {
        level: 'warn',
        message: 'Meta call failed',
        code: 'meta_timeout',
        reason: 'Meta did not answer',
      },
    ]);
    expect(invalid.log.entries).toEqual([]);
  });
});
