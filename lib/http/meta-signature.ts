import { createHmac, timingSafeEqual } from 'node:crypto';
import type { MiddlewareObj } from '@middy/core';
import { type ApiEventWithRawBody, type ApiResult, header, rawBytes } from './api-gateway.ts';
import { HttpError } from './http-error.ts';

/**
 * Checks Meta's signature over the exact raw bytes: `X-Hub-Signature-256`, or the older
 * sha1 `X-Hub-Signature` only when the sha256 one is absent. Runs before any parsing.
 * Only POSTs carry a body to check.
 */
export function metaSignature({
  appSecret,
}: {
  appSecret: string;
}): MiddlewareObj<ApiEventWithRawBody, ApiResult> {
  return {
    name: 'metaSignature',
    before: ({ event }) => {
      if (event.requestContext.http.method !== 'POST') return;
      const sha256 = header(event, 'x-hub-signature-256');
      const sha1 = header(event, 'x-hub-signature');
      const [algorithm, given]: ['sha256' | 'sha1', string | undefined] =
        sha256 !== undefined ? ['sha256', sha256] : ['sha1', sha1];
      if (given === undefined) {
        throw new HttpError(401, 'signature_missing', 'X-Hub-Signature-256 header is missing');
      }
      if (!signatureMatches(rawBytes(event), given, algorithm, appSecret)) {
        throw new HttpError(
          401,
          'signature_invalid',
          `X-Hub-Signature${algorithm === 'sha256' ? '-256' : ''} does not match the body`,
        );
      }
    },
  };
}

/** Compares `<algorithm>=<hex>` against the HMAC of `body` in constant time. */
export function signatureMatches(
  body: Buffer,
  given: string,
  algorithm: 'sha256' | 'sha1',
  appSecret: string,
): boolean {
  const prefix = `${algorithm}=`;
  if (!given.startsWith(prefix)) return false;
  const expected = createHmac(algorithm, appSecret).update(body).digest();
  const hex = given.slice(prefix.length);
  if (!/^[0-9a-fA-F]+$/.test(hex)) return false;
  const actual = Buffer.from(hex, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Signs a body the way Meta does: for the simulator and tests. */
export function signBody(body: string | Buffer, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(body).digest('hex')}`;
}
