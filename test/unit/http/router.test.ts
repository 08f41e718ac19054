import { describe, expect, it } from 'vitest';
import { HttpError } from '#lib/http/http-error.ts';
import { createRouter } from '#lib/http/router.ts';

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
