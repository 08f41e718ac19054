import { describe, expect, it } from 'vitest';
import { parseJsonBody } from '#lib/http/json-body.ts';

describe('a request body', () => {
  it('reads an empty body as absent and refuses text that is not JSON', () => {
    expect(parseJsonBody(new Uint8Array())).toBeUndefined();
    expect(parseJsonBody(new TextEncoder().encode('{"a":1}'))).toEqual({ a: 1 });
    expect(() => parseJsonBody(new TextEncoder().encode('{'))).toThrow('body: not valid JSON');
  });
});
