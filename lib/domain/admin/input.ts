import * as z from 'zod';
import { InvalidInputError } from '../errors.ts';

/** One admin API request as plain data: path parameters, query string and parsed JSON body. */
export interface AdminRequest {
  params: Readonly<Record<string, string>>;
  query: Readonly<Record<string, string | undefined>>;
  body: unknown;
}

/**
 * Parses admin input with a schema; a bad value is an InvalidInputError whose message starts
 * with the field's name (`title: at most 65 characters`).
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (!issue) throw new InvalidInputError('invalid input');
  const field = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const where = field === '' ? '' : `${field}.`;
    throw new InvalidInputError(
      `${issue.keys.map((key) => `${where}${key}`).join(', ')}: unknown field`,
    );
  }
  throw new InvalidInputError(`${field || 'body'}: ${issue.message}`);
}

/** A whole number in a query string (`limit=25`). */
export function queryInt(min: number, max: number) {
  return z
    .string()
    .regex(/^\d+$/, `must be a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
}

/** A JSON object body; a missing body reads as `{}` so the schema names the missing fields. */
export function bodyObject(body: unknown): unknown {
  return body === undefined ? {} : body;
}
