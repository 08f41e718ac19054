import { InvalidInputError } from './errors.ts';
import type { DeliveryRoute } from './page.ts';

/** Meta's limit on a Marketing Message's text (META_PLATFORM.md section 4). */
export const MM_TEXT_MAX_CHARS = 640;
/** Buttons in one template or one element (section 4: at most 3, HTTPS URLs). */
export const BUTTONS_MAX = 3;
const BUTTON_TITLE_MAX_CHARS = 20;
const ELEMENTS_MAX = 10;
const ELEMENT_TITLE_MAX_CHARS = 80;
/** The placeholders Meta fills in, on the Marketing Message route only, in titles and text. */
const PLACEHOLDERS = new Set(['first_name', 'last_name', 'full_name']);
const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const TEMPLATE_TYPES = new Set(['button', 'generic', 'media']);
const BUTTON_TYPES = new Set(['web_url', 'postback', 'phone_number']);

type Json = Record<string, unknown>;

/**
 * Why Meta would refuse a message sent over `route` (META_PLATFORM.md section 4), as
 * `<field>: <reason>`, or undefined: text length, buttons and their URLs, template shapes and
 * `{{first_name}}`-style placeholders. The one check every saved message goes through
 * (topics, editions), after its shape has been parsed.
 */
export function messageProblem(message: Json, route: DeliveryRoute): string | undefined {
  const texts: { field: string; text: string; placeholders: boolean }[] = [];
  const problem = shapeProblem(message, texts);
  if (problem !== undefined) return problem;
  for (const { field, text, placeholders } of texts) {
    if (field === 'message.text' && route === 'marketing_messages') {
      const length = [...text].length;
      if (length > MM_TEXT_MAX_CHARS) {
        return `${field}: at most ${MM_TEXT_MAX_CHARS} characters on the Marketing Message route, got ${length}`;
      }
    }
    for (const match of text.matchAll(PLACEHOLDER)) {
      const name = match[1] ?? '';
      if (route !== 'marketing_messages') {
        return `${field}: ${match[0]} is filled in only on the marketing_messages route; Meta would send it as written`;
      }
      if (!PLACEHOLDERS.has(name)) {
        return `${field}: unknown placeholder ${match[0]} (Meta fills in {{first_name}}, {{last_name}}, {{full_name}})`;
      }
      if (!placeholders)
        return `${field}: Meta fills in no placeholder here (only in titles and text)`;
    }
  }
  return undefined;
}

function shapeProblem(
  message: Json,
  texts: { field: string; text: string; placeholders: boolean }[],
) {
  if (typeof message.text === 'string')
    texts.push({ field: 'message.text', text: message.text, placeholders: true });
  const attachment = objectOf(message.attachment);
  if (attachment?.type !== 'template') return undefined;
  const payload = objectOf(attachment.payload) ?? {};
  const type = String(payload.template_type);
  const at = 'message.attachment.payload';
  if (!TEMPLATE_TYPES.has(type)) {
    return `${at}.template_type: Meta sends ${[...TEMPLATE_TYPES].join(', ')} templates as marketing messages, not ${JSON.stringify(type)}`;
  }
  if (type === 'button') {
    if (typeof payload.text !== 'string' || payload.text === '')
      return `${at}.text: a button template needs its text`;
    texts.push({ field: `${at}.text`, text: payload.text, placeholders: true });
    return buttonsProblem(payload.buttons, `${at}.buttons`, texts, true);
  }
  if (type === 'generic') {
    const elements = payload.elements;
    if (!Array.isArray(elements) || elements.length === 0 || elements.length > ELEMENTS_MAX) {
      return `${at}.elements: 1 to ${ELEMENTS_MAX} elements`;
    }
    for (const [i, entry] of elements.entries()) {
      const element = objectOf(entry);
      const field = `${at}.elements.${i}`;
      const title = element?.title;
      if (typeof title !== 'string' || title === '') return `${field}.title: required`;
      if ([...title].length > ELEMENT_TITLE_MAX_CHARS)
        return `${field}.title: at most ${ELEMENT_TITLE_MAX_CHARS} characters`;
      texts.push({ field: `${field}.title`, text: title, placeholders: true });
      if (element?.buttons !== undefined) {
        const problem = buttonsProblem(element.buttons, `${field}.buttons`, texts, false);
        if (problem !== undefined) return problem;
      }
    }
  }
  return undefined;
}

function buttonsProblem(
  value: unknown,
  field: string,
  texts: { field: string; text: string; placeholders: boolean }[],
  required: boolean,
): string | undefined {
  if (!Array.isArray(value) || (required && value.length === 0))
    return `${field}: 1 to ${BUTTONS_MAX} buttons`;
  if (value.length > BUTTONS_MAX)
    return `${field}: at most ${BUTTONS_MAX} buttons, got ${value.length}`;
  for (const [i, entry] of value.entries()) {
    const button = objectOf(entry);
    const at = `${field}.${i}`;
    if (!button || !BUTTON_TYPES.has(String(button.type))) {
      return `${at}.type: one of ${[...BUTTON_TYPES].join(', ')}`;
    }
    const title = button.title;
    if (typeof title !== 'string' || title === '') return `${at}.title: required`;
    if ([...title].length > BUTTON_TITLE_MAX_CHARS)
      return `${at}.title: at most ${BUTTON_TITLE_MAX_CHARS} characters`;
    texts.push({ field: `${at}.title`, text: title, placeholders: false });
    if (button.type === 'web_url' && !isHttpsUrl(button.url))
      return `${at}.url: must be an https:// URL`;
  }
  return undefined;
}

function isHttpsUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    return new URL(value).protocol === 'https:';
  } catch {
    return false;
  }
}

function objectOf(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Json)
    : undefined;
}

/** Throws an InvalidInputError naming the field when Meta would refuse the message over `route`. */
export function assertSendableMessage(message: Json, route: DeliveryRoute): void {
  const problem = messageProblem(message, route);
  if (problem !== undefined) throw new InvalidInputError(problem);
}
