import { describe, expect, it } from 'vitest';
import { parseInput } from '#lib/domain/admin/input.ts';
import { sendApiMessageSchema } from '#lib/domain/admin/topics.ts';
import { InvalidInputError } from '#lib/domain/errors.ts';
import { idSchema } from '#lib/domain/ids.ts';

describe('admin input', () => {
  it('names the field of the first problem, and every unknown field', () => {
    const schema = idSchema('topic id');

    expect(() => parseInput(schema, 'a#b')).toThrow("body: the topic id must not contain '#'");
    expect(() => parseInput(schema, '')).toThrow(InvalidInputError);
    expect(() => parseInput(sendApiMessageSchema, { text: 'a', colour: 1, size: 2 })).toThrow(
      'colour, size: unknown field',
    );
  });
});
