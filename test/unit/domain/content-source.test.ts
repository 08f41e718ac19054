import { describe, expect, it } from 'vitest';
import { contentUrlProblem, signContentBody } from '#lib/domain/content-source.ts';

describe('signContentBody', () => {
  it('is the hex HMAC-SHA256 of the body with the secret, after sha256=', () => {
    // The widely published HMAC-SHA256 example: key "key", the pangram as the message.
    expect(signContentBody('The quick brown fox jumps over the lazy dog', 'key')).toBe(
      'sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8',
    );
  });

  it('changes with every byte of the body', () => {
    const body = '{"pageId":"1001","topicId":"deals","date":"2026-12-05","cadence":"DAILY"}';

    expect(signContentBody(body, 's')).not.toBe(signContentBody(`${body} `, 's'));
  });
});

describe('contentUrlProblem', () => {
  const deployed = { allowLoopbackHttp: false };
  const local = { allowLoopbackHttp: true };

  it.each([
    'https://content.example.com/editions',
    'https://content.example.com:8443/editions?topic=deals',
  ])('takes %s anywhere', (url) => {
    expect(contentUrlProblem(url, deployed)).toBeUndefined();
  });

  it.each(['http://127.0.0.1:4000/editions', 'http://localhost/x', 'http://[::1]:8080/'])(
    'takes plain http to the loopback host %s where the runtime allows it',
    (url) => {
      expect(contentUrlProblem(url, local)).toBeUndefined();
      expect(contentUrlProblem(url, deployed)).toMatch(/^contentUrl: must be https:\/\//);
    },
  );

  it.each([
    ['http://content.example.com/editions', /plain http only to a loopback host/],
    ['http://10.0.0.1/editions', /plain http only to a loopback host/],
    ['ftp://content.example.com/', /must be an https:\/\/ URL/],
    ['content.example.com/editions', /must be an absolute https:\/\/ URL/],
    ['https://user:pass@content.example.com/', /user name or password/],
    [`https://content.example.com/${'x'.repeat(2048)}`, /at most 2048 characters/],
  ])('refuses %s, naming the field', (url, reason) => {
    expect(contentUrlProblem(url, local)).toMatch(reason);
    expect(contentUrlProblem(url, local)).toMatch(/^contentUrl: /);
  });
});
