import { describe, expect, it } from 'vitest';
import { metaCallFailure } from '#lib/domain/admin/graph.ts';
import { NotFoundError, RefusedError, UpstreamError } from '#lib/domain/errors.ts';

const NOW = Date.parse('2026-11-21T09:00:00Z');

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
