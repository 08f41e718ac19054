import type { ContentAnswer, ContentSourceClient } from '../domain/fanout/content-source.ts';

/** The largest answer read: a message is at most 64 KB as JSON. */
const MAX_ANSWER_BYTES = 256 * 1024;

/**
 * POSTs to content sources with `fetch`: redirects are not followed (the URL was checked when
 * saved, a redirect's target was not), the whole answer must come within the timeout, and a
 * larger body than any message is not read.
 */
export function httpContentSourceClient(): ContentSourceClient {
  return {
    async post(url, { body, headers, timeoutMs }): Promise<ContentAnswer> {
      try {
        const answer = await fetch(url, {
          method: 'POST',
          body,
          headers,
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        });
        const declared = Number(answer.headers.get('content-length') ?? 0);
        if (declared > MAX_ANSWER_BYTES) {
          await answer.body?.cancel();
          return { kind: 'answered', status: answer.status, body: '' };
        }
        const text = await answer.text();
        return {
          kind: 'answered',
          status: answer.status,
          body: text.length > MAX_ANSWER_BYTES ? '' : text,
        };
      } catch (error: unknown) {
        if (error instanceof DOMException && error.name === 'TimeoutError') {
          return { kind: 'timeout' };
        }
        const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
        const code =
          typeof cause === 'object' && cause !== null && 'code' in cause
            ? String(cause.code)
            : undefined;
        return { kind: 'unreachable', reason: code ?? 'the request failed' };
      }
    },
  };
}
