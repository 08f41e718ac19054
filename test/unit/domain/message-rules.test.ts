import { describe, expect, it } from 'vitest';
import { messageProblem } from '#lib/domain/message-rules.ts';

const button = (fields: Record<string, unknown> = {}) => ({
  type: 'web_url',
  title: 'Shop',
  url: 'https://shop.example/deals',
  ...fields,
});
const buttonTemplate = (payload: Record<string, unknown>) => ({
  attachment: { type: 'template', payload: { template_type: 'button', text: 'Deals', ...payload } },
});
const generic = (elements: unknown[]) => ({
  attachment: { type: 'template', payload: { template_type: 'generic', elements } },
});

describe('messageProblem', () => {
  it.each([
    ['a short text', { text: 'Today only' }, 'send_api'],
    ['640 characters on the MM route', { text: 'x'.repeat(640) }, 'marketing_messages'],
    ['2000 characters on the Send API', { text: 'x'.repeat(2000) }, 'send_api'],
    ['{{first_name}} on the MM route', { text: 'Hi {{first_name}}!' }, 'marketing_messages'],
    ['{{ full_name }} on the MM route', { text: 'Hi {{ full_name }}' }, 'marketing_messages'],
    [
      'a button template with three https buttons',
      buttonTemplate({ buttons: [button(), button(), button()] }),
      'send_api',
    ],
    [
      'a postback button',
      buttonTemplate({ buttons: [{ type: 'postback', title: 'More', payload: 'M' }] }),
      'send_api',
    ],
    [
      'a generic template',
      generic([{ title: 'Socks {{first_name}}', buttons: [button()] }]),
      'marketing_messages',
    ],
    [
      'an image',
      { attachment: { type: 'image', payload: { url: 'https://x.example/a.png' } } },
      'send_api',
    ],
  ] as const)('accepts %s', (_, message, route) => {
    expect(messageProblem(message, route)).toBeUndefined();
  });

  it.each([
    [
      '641 characters on the MM route',
      { text: 'x'.repeat(641) },
      'marketing_messages',
      'message.text: at most 640 characters on the Marketing Message route, got 641',
    ],
    [
      '{{first_name}} on the Send API',
      { text: 'Hi {{first_name}}' },
      'send_api',
      'message.text: {{first_name}} is filled in only on the marketing_messages route; Meta would send it as written',
    ],
    [
      'an unknown placeholder',
      { text: 'Hi {{nickname}}' },
      'marketing_messages',
      'message.text: unknown placeholder {{nickname}} (Meta fills in {{first_name}}, {{last_name}}, {{full_name}})',
    ],
    [
      'a placeholder in a button',
      buttonTemplate({ buttons: [button({ title: '{{first_name}}' })] }),
      'marketing_messages',
      'message.attachment.payload.buttons.0.title: Meta fills in no placeholder here (only in titles and text)',
    ],
    [
      'four buttons',
      buttonTemplate({ buttons: [button(), button(), button(), button()] }),
      'send_api',
      'message.attachment.payload.buttons: at most 3 buttons, got 4',
    ],
    [
      'no buttons',
      buttonTemplate({ buttons: [] }),
      'send_api',
      'message.attachment.payload.buttons: 1 to 3 buttons',
    ],
    [
      'an http button URL',
      buttonTemplate({ buttons: [button({ url: 'http://shop.example' })] }),
      'send_api',
      'message.attachment.payload.buttons.0.url: must be an https:// URL',
    ],
    [
      'a button URL that is no URL',
      buttonTemplate({ buttons: [button({ url: 'shop' })] }),
      'send_api',
      'message.attachment.payload.buttons.0.url: must be an https:// URL',
    ],
    [
      'a button title over 20 characters',
      buttonTemplate({ buttons: [button({ title: 'x'.repeat(21) })] }),
      'send_api',
      'message.attachment.payload.buttons.0.title: at most 20 characters',
    ],
    [
      'a button of unknown type',
      buttonTemplate({ buttons: [button({ type: 'game_play' })] }),
      'send_api',
      'message.attachment.payload.buttons.0.type: one of web_url, postback, phone_number',
    ],
    [
      'a button template without text',
      buttonTemplate({ text: '', buttons: [button()] }),
      'send_api',
      'message.attachment.payload.text: a button template needs its text',
    ],
    [
      'a receipt template',
      { attachment: { type: 'template', payload: { template_type: 'receipt' } } },
      'send_api',
      'message.attachment.payload.template_type: Meta sends button, generic, media templates as marketing messages, not "receipt"',
    ],
    [
      'a generic template with no elements',
      generic([]),
      'send_api',
      'message.attachment.payload.elements: 1 to 10 elements',
    ],
    [
      'an element without title',
      generic([{ subtitle: 'x' }]),
      'send_api',
      'message.attachment.payload.elements.0.title: required',
    ],
  ] as const)('refuses %s, naming the field', (_, message, route, problem) => {
    expect(messageProblem(message, route)).toBe(problem);
  });
});
