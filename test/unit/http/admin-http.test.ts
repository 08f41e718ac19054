import { describe, expect, it } from 'vitest';
import { adminConfigSchema, readConfig } from '#lib/config.ts';
import { metaCallFailure } from '#lib/domain/admin/graph.ts';
import { parseInput } from '#lib/domain/admin/input.ts';
import { decodeCursor, encodeCursor } from '#lib/domain/admin/subscriptions.ts';
import { sendApiMessageSchema } from '#lib/domain/admin/topics.ts';
import {
  InvalidInputError,
  NotFoundError,
  RefusedError,
  UpstreamError,
} from '#lib/domain/errors.ts';
import { idSchema } from '#lib/domain/ids.ts';
import { optInRequestFor } from '#lib/graph/graph-client.ts';
import { HttpError } from '#lib/http/http-error.ts';
import { parseJsonBody } from '#lib/http/json-body.ts';
import { createRouter } from '#lib/http/router.ts';

const NOW = Date.parse('2026-11-21T09:00:00Z');

describe('the admin router', () => {
  const router = createRouter([
    { method: 'GET', path: '/admin/pages', handler: 'list' },
    { method: 'PUT', path: '/admin/pages/{pageId}', handler: 'put' },
    { method: 'POST', path: '/admin/pages/{pageId}/reconcile', handler: 'reconcile' },
    { method: 'DELETE', path: '/admin/contacts/{pageId}/{psid}', handler: 'erase' },
  ]);

  it('matches a path and decodes its parameters', () => {
    expect(router.match('DELETE', '/admin/contacts/1001/a%20b')).toEqual({
      handler: 'erase',
      params: { pageId: '1001', psid: 'a b' },
    });
    expect(router.match('put', '/admin/pages/1001/')).toEqual({
      handler: 'put',
      params: { pageId: '1001' },
    });
  });

  it('answers 404 for an unknown path and 405 naming the methods of a known one', () => {
    const attempt = (method: string, path: string) => {
      try {
        router.match(method, path);
        return undefined;
      } catch (error: unknown) {
        return error instanceof HttpError ? [error.status, error.code, error.message] : error;
      }
    };

    expect(attempt('GET', '/admin/pages/1001/reconcile/now')).toEqual([
      404,
      'not_found',
      'no route for GET /admin/pages/1001/reconcile/now',
    ]);
    expect(attempt('GET', '/admin/pages/1001')).toEqual([
      405,
      'method_not_allowed',
      'GET is not allowed on /admin/pages/1001; use PUT',
    ]);
    expect(attempt('PUT', '/admin/pages/%E0%A4%A')).toEqual([
      400,
      'invalid_input',
      'pageId: the path segment is not valid URL encoding',
    ]);
  });
});

describe('admin input', () => {
  it('names the field of the first problem, and every unknown field', () => {
    const schema = idSchema('topic id');

    expect(() => parseInput(schema, 'a#b')).toThrow("body: the topic id must not contain '#'");
    expect(() => parseInput(schema, '')).toThrow(InvalidInputError);
    expect(() => parseInput(sendApiMessageSchema, { text: 'a', colour: 1, size: 2 })).toThrow(
      'colour, size: unknown field',
    );
  });

  it('reads an empty body as absent and refuses text that is not JSON', () => {
    expect(parseJsonBody(new Uint8Array())).toBeUndefined();
    expect(parseJsonBody(new TextEncoder().encode('{"a":1}'))).toEqual({ a: 1 });
    expect(() => parseJsonBody(new TextEncoder().encode('{'))).toThrow('body: not valid JSON');
  });

  it('accepts the Send API message shapes and refuses the rest', () => {
    const valid = [
      { text: 'x'.repeat(2000) },
      { attachment: { type: 'image', payload: { url: 'https://x.test/a.png' } } },
      {
        text: 'Pick one',
        quick_replies: [{ content_type: 'text', title: 'Yes', payload: 'YES' }],
      },
    ];
    const invalid = [
      { text: 'x'.repeat(2001) },
      { text: '' },
      { text: 'a', quick_replies: [{ content_type: 'text', payload: 'NO_TITLE' }] },
      { attachment: { type: 'template', payload: { template_type: 'notification_messages' } } },
      {},
    ];

    for (const message of valid) expect(sendApiMessageSchema.safeParse(message).success).toBe(true);
    for (const message of invalid) {
      expect(sendApiMessageSchema.safeParse(message).success).toBe(false);
    }
  });

  it('round-trips a cursor and refuses one it did not make', () => {
    const position = { pk: 'SUB#1#2', sk: 'TOPIC#t', subPage: '1', subSort: 't#2' };

    expect(decodeCursor(encodeCursor(position))).toEqual(position);
    expect(() => decodeCursor('not a cursor')).toThrow(/^cursor: /);
    expect(() => decodeCursor('e30x')).toThrow(/^cursor: /);
  });
});

describe("Meta's refusals of admin calls", () => {
  const refused = (code: number, subcode?: number) =>
    metaCallFailure(
      'opt-in request',
      {
        kind: 'refused',
        status: 400,
        error: {
          code,
          ...(subcode !== undefined && { subcode }),
          message: 'Invalid OAuth access token: EAAB-secret',
          fbtraceId: 'trace-1',
        },
      },
      NOW,
    );

  it.each([
    [10, 2534022, 'outside_window'],
    [10, 2018278, 'outside_window'],
    [613, 1893016, 'too_soon'],
    [9, 2018352, 'meta_rate_limited'],
    [613, undefined, 'meta_rate_limited'],
    [10, 1404170, 'page_barred'],
    [190, undefined, 'page_token_invalid'],
    [368, undefined, 'page_restricted'],
    [200, undefined, 'page_not_permitted'],
    [551, undefined, 'person_unreachable'],
  ])('turns %s/%s into the refusal %s, never quoting Meta', (code, subcode, expected) => {
    const error = refused(code, subcode);

    expect(error).toBeInstanceOf(RefusedError);
    expect(error instanceof RefusedError && error.code).toBe(expected);
    expect(error.message).toContain('fbtrace_id trace-1');
    expect(error.message).not.toContain('EAAB-secret');
  });

  it('gives the 7-day refusal a retry time and an unknown person a 404', () => {
    const tooSoon = refused(613, 1893016);

    expect(tooSoon instanceof RefusedError && tooSoon.retryAt).toBe(NOW + 7 * 86_400_000);
    expect(refused(100, 2018001)).toBeInstanceOf(NotFoundError);
  });

  it('calls failures on Meta’s side upstream errors', () => {
    const codeOf = (error: Error) => (error instanceof UpstreamError ? error.code : error.name);

    expect(codeOf(refused(2))).toBe('meta_unavailable');
    expect(codeOf(refused(12345))).toBe('meta_error');
    expect(
      codeOf(
        metaCallFailure('x', { kind: 'unanswered', requestLeft: true, cause: 'TimeoutError' }, NOW),
      ),
    ).toBe('meta_timeout');
    expect(
      codeOf(
        metaCallFailure(
          'x',
          { kind: 'unanswered', requestLeft: false, cause: 'ECONNREFUSED' },
          NOW,
        ),
      ),
    ).toBe('meta_unavailable');
    expect(codeOf(metaCallFailure('x', { kind: 'refused', status: 503 }, NOW))).toBe(
      'meta_unavailable',
    );
  });
});

describe('the opt-in template request', () => {
  it("is Meta's documented shape, addressed to the PSID, re-opt-in enabled", () => {
    const request = optInRequestFor('https://graph.test/v24.0', {
      pageId: '1001',
      accessToken: 'page token',
      psid: '5001',
      template: {
        title: 'Daily deals',
        payload: 'daily-deals',
        ctaText: 'GET_UPDATES',
        timezone: 'Europe/Paris',
      },
    });

    expect(request).toEqual({
      url: 'https://graph.test/v24.0/1001/messages?access_token=page%20token',
      body: {
        recipient: { id: '5001' },
        message: {
          attachment: {
            type: 'template',
            payload: {
              template_type: 'notification_messages',
              title: 'Daily deals',
              payload: 'daily-deals',
              notification_messages_cta_text: 'GET_UPDATES',
              notification_messages_timezone: 'Europe/Paris',
              notification_messages_reoptin: 'ENABLED',
            },
          },
        },
      },
    });
  });
});

describe('the admin function configuration', () => {
  it('names what is missing and fills in the defaults', () => {
    expect(() => readConfig(adminConfigSchema, { TABLE_NAME: 't', SEND_QUEUE_URL: 'q' })).toThrow(
      'FANOUT_FUNCTION_NAME is not set',
    );
    expect(
      readConfig(adminConfigSchema, {
        TABLE_NAME: 't',
        SEND_QUEUE_URL: 'q',
        FANOUT_FUNCTION_NAME: 'fanout',
      }),
    ).toEqual({
      TABLE_NAME: 't',
      SEND_QUEUE_URL: 'q',
      FANOUT_FUNCTION_NAME: 'fanout',
      META_GRAPH_URL: 'https://graph.facebook.com',
      META_GRAPH_VERSION: 'v24.0',
      LOOKBACK_HOURS: 6,
    });
  });
});
