import * as z from 'zod';

/**
 * An id that is safe inside the table's `#`-separated keys: 1 to 200 characters, no `#`, no
 * control characters.
 */
export function idSchema(what: string) {
  return (
    z
      .string({ error: `required: the ${what}` })
      .min(1, `the ${what} is empty`)
      .max(200, `the ${what} is longer than 200 characters`)
      .refine((value) => !value.includes('#'), `the ${what} must not contain '#'`)
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this rejects.
      .refine((value) => !/[\u0000-\u001f\u007f]/.test(value), {
        message: `the ${what} must not contain control characters`,
      })
  );
}
