import { InvalidInputError } from '../domain/errors.ts';

/** A request body's JSON; an empty body is undefined, anything not JSON is a 400. */
export function parseJsonBody(bytes: Uint8Array): unknown {
  if (bytes.length === 0) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new InvalidInputError('body: not valid JSON', 'malformed_json');
  }
}
