import { createHash } from 'node:crypto';

/** Hex sha256 of a string or bytes. */
export function sha256(input: string | Uint8Array): string {
  return createHash('sha256').update(input).digest('hex');
}
