import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '#lib/domain/admin/subscriptions.ts';

describe('the subscription list cursor', () => {
  it('round-trips a cursor and refuses one it did not make', () => {
    const position = { pk: 'SUB#1#2', sk: 'TOPIC#t', subPage: '1', subSort: 't#2' };

    expect(decodeCursor(encodeCursor(position))).toEqual(position);
    expect(() => decodeCursor('not a cursor')).toThrow(/^cursor: /);
    expect(() => decodeCursor('e30x')).toThrow(/^cursor: /);
  });
});
