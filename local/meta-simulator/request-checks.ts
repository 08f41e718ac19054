import { IANAZone } from 'luxon';
import type { TokenFrequency } from './cooldown.ts';
import { type GraphErrorSpec, graphErrors } from './graph-errors.ts';

/** Meta's parameter checks on what a business sends (META_PLATFORM.md sections 2 and 4). */

const TITLE_MAX_CHARS = 65;
const TEXT_MAX_CHARS = 2000;
const CTA_TEXTS = new Set(['ALLOW', 'GET', 'GET_UPDATES', 'OPT_IN', 'SIGN_UP']);
const ASPECT_RATIOS = new Set(['HORIZONTAL', 'SQUARE']);
const FREQUENCIES = new Set<string>(['DAILY', 'WEEKLY', 'MONTHLY']);
const REOPTIN = new Set(['ENABLED', 'DISABLED']);

/** The opt-in template's fields, read loosely at the HTTP edge. */
export interface OptInRequest {
  psid: string;
  title?: unknown;
  payload?: unknown;
  imageUrl?: unknown;
  imageAspectRatio?: unknown;
  ctaText?: unknown;
  timezone?: unknown;
  frequency?: unknown;
  reoptin?: unknown;
}

/** What an accepted opt-in template carries on. */
export interface OptInTemplate {
  title: string;
  /** Our topic id, echoed in the webhook. */
  payload: string;
  timezone?: string;
  frequency?: TokenFrequency;
}

/** Checks the opt-in template as Meta does: 100 for any field out of its documented range. */
export function checkOptInTemplate(
  request: OptInRequest,
): { ok: true; template: OptInTemplate } | { ok: false; error: GraphErrorSpec } {
  const invalid = (message: string) =>
    ({ ok: false, error: graphErrors.invalidParameter(message) }) as const;
  const { title, payload, ctaText, imageAspectRatio, timezone, frequency, reoptin } = request;
  if (typeof title !== 'string' || title.trim() === '') return invalid('param title is required');
  if ([...title].length > TITLE_MAX_CHARS) {
    return invalid(`param title must be at most ${TITLE_MAX_CHARS} characters`);
  }
  if (typeof payload !== 'string' || payload === '') return invalid('param payload is required');
  if (ctaText !== undefined && !oneOf(ctaText, CTA_TEXTS)) {
    return invalid(
      'param notification_messages_cta_text must be one of ALLOW, GET, GET_UPDATES, OPT_IN, SIGN_UP',
    );
  }
  if (imageAspectRatio !== undefined && !oneOf(imageAspectRatio, ASPECT_RATIOS)) {
    return invalid('param image_aspect_ratio must be HORIZONTAL or SQUARE');
  }
  if (timezone !== undefined && (typeof timezone !== 'string' || !IANAZone.isValidZone(timezone))) {
    return invalid('param notification_messages_timezone must be a time zone id');
  }
  if (frequency !== undefined && !isFrequency(frequency)) {
    return invalid('param notification_messages_frequency must be DAILY, WEEKLY or MONTHLY');
  }
  if (reoptin !== undefined && !oneOf(reoptin, REOPTIN)) {
    return invalid('param notification_messages_reoptin must be ENABLED or DISABLED');
  }
  return {
    ok: true,
    template: {
      title,
      payload,
      ...(typeof timezone === 'string' && { timezone }),
      ...(frequency !== undefined && { frequency }),
    },
  };
}

/** The message of a send: a non-empty object, its text (if any) at most 2000 characters. */
export function checkMessage(message: unknown): Record<string, unknown> | GraphErrorSpec {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    return graphErrors.invalidParameter('param message must be a non-empty object');
  }
  if (Object.keys(message).length === 0) {
    return graphErrors.invalidParameter('param message must be non-empty');
  }
  if (
    'text' in message &&
    (typeof message.text !== 'string' || message.text.length > TEXT_MAX_CHARS)
  ) {
    return graphErrors.invalidParameter(
      `param message[text] must be a UTF-8 string of at most ${TEXT_MAX_CHARS} characters`,
    );
  }
  return { ...message };
}

/** Whether a check answered an error rather than the checked value. */
export function isGraphError(
  value: Record<string, unknown> | GraphErrorSpec,
): value is GraphErrorSpec {
  return 'reason' in value && 'status' in value && 'code' in value && 'type' in value;
}

function oneOf(value: unknown, allowed: Set<string>): boolean {
  return typeof value === 'string' && allowed.has(value);
}

function isFrequency(value: unknown): value is TokenFrequency {
  return oneOf(value, FREQUENCIES);
}
