import * as z from 'zod';

/**
 * How Meta writes values in webhook JSON: timestamps as numbers or numeric strings, Graph ids
 * as strings or as JSON numbers (which `parseMetaJson` keeps digit for digit).
 */

/** Epoch milliseconds, sent as a number or as a numeric string. */
export const epochMs = z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]);

/** An id Meta writes as a string or as a JSON number (`parseMetaJson` keeps its digits). */
export const graphId = z.union([z.string(), z.number().transform(String)]);

/**
 * Keys whose numbers are Graph ids: JSON numbers past 2^53 lose digits in `JSON.parse`, so
 * their source text is kept (Node 22+ hands revivers the source).
 */
const ID_KEYS = new Set(['id', 'page_id', 'recipient_id', 'app_id', 'message_id']);

function keepIdDigits(
  this: unknown,
  key: string,
  value: unknown,
  context?: { source?: string },
): unknown {
  return typeof value === 'number' && ID_KEYS.has(key) && context?.source !== undefined
    ? context.source
    : value;
}

/** `JSON.parse` of a webhook body, Graph ids sent as numbers kept as their digits. */
export function parseMetaJson(text: string): unknown {
  return JSON.parse(text, keepIdDigits as Parameters<typeof JSON.parse>[1]);
}
