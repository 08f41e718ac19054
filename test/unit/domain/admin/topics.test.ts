import { describe, expect, it } from 'vitest';
import { parsePutTopic, sendApiMessageSchema } from '#lib/domain/admin/topics.ts';
import { InvalidInputError } from '#lib/domain/errors.ts';
import { MESSAGE_MAX_DEPTH, MESSAGE_MAX_JSON_BYTES } from '#lib/domain/topic.ts';

describe("a topic's Send API message", () => {
  it('accepts the Send API message shapes and refuses the rest', () => {
    const valid = [
      { text: 'x'.repeat(2000) },
      { attachment: { type: 'image', payload: { url: 'https://x.test/a.png' } } },
      {
        text: 'Pick one',
        quick_replies: [{ content_type: 'text', title: 'Yes', payload: 'YES' }],
      },
    ];
    const invalid = [
      { text: 'x'.repeat(2001) },
      { text: '' },
      { text: 'a', quick_replies: [{ content_type: 'text', payload: 'NO_TITLE' }] },
      { attachment: { type: 'template', payload: { template_type: 'notification_messages' } } },
      {},
    ];

    for (const message of valid) expect(sendApiMessageSchema.safeParse(message).success).toBe(true);
    for (const message of invalid) {
      expect(sendApiMessageSchema.safeParse(message).success).toBe(false);
    }
  });
});

describe('a topic message too big or too deep to store', () => {
  const put = (message: unknown) => () =>
    parsePutTopic({
      params: { topicId: 'deals' },
      query: {},
      body: { pageId: '1001', title: 'Deals', cadence: 'DAILY', sendTime: '09:00', message },
    });
  const image = (payload: Record<string, unknown>) => ({ attachment: { type: 'image', payload } });

  it('is refused naming the message and the limit in bytes', () => {
    const padding = 'x'.repeat(MESSAGE_MAX_JSON_BYTES);

    expect(put(image({ url: 'https://x.test/a.png', padding }))).toThrow(
      new RegExp(`^message: at most ${MESSAGE_MAX_JSON_BYTES} bytes as JSON, got \\d+$`),
    );
  });

  it('counts bytes, not characters', () => {
    const emoji = '😀'.repeat(MESSAGE_MAX_JSON_BYTES / 4);

    expect(put(image({ emoji }))).toThrow(InvalidInputError);
    expect(put(image({ ascii: 'x'.repeat(MESSAGE_MAX_JSON_BYTES / 4) }))).not.toThrow();
  });

  it(`is refused deeper than ${MESSAGE_MAX_DEPTH} levels, kept at ${MESSAGE_MAX_DEPTH}`, () => {
    const nested = (levels: number) => {
      let value: unknown = 'leaf';
      for (let i = 0; i < levels; i++) value = [value];
      return value;
    };
    // The message, its attachment and the payload are the first three levels.
    const atLimit = image({ deep: nested(MESSAGE_MAX_DEPTH - 3) });
    const overLimit = image({ deep: nested(MESSAGE_MAX_DEPTH - 2) });

    expect(put(atLimit)).not.toThrow();
    expect(put(overLimit)).toThrow(`message: at most ${MESSAGE_MAX_DEPTH} levels`);
  });

  it.each([[Number.MAX_SAFE_INTEGER + 2], [-1e200], [1e-200]])(
    'is refused with the number %s, which DynamoDB cannot store',
    (value) => {
      expect(put(image({ value }))).toThrow(/^message: numbers must be 0 or between/);
    },
  );

  it.each([[0], [Number.MAX_SAFE_INTEGER], [-1.5], [1e-130]])('keeps the number %s', (value) => {
    expect(put(image({ value }))).not.toThrow();
  });
});

describe("a topic's priority", () => {
  const put = (priority: unknown) =>
    parsePutTopic({
      params: { topicId: 'deals' },
      query: {},
      body: {
        pageId: '1001',
        title: 'Deals',
        cadence: 'DAILY',
        sendTime: '09:00',
        message: { text: 'hi' },
        priority,
      },
    });

  it.each([[0], [42], [100]])('keeps %s', (priority) => {
    expect(put(priority).topic.priority).toBe(priority);
  });

  it.each([[-1], [101], [2.5], ['high'], [null]])(
    'refuses %s, naming the field and the range',
    (priority) => {
      expect(() => put(priority)).toThrow(InvalidInputError);
      expect(() => put(priority)).toThrow(/^priority: must be .*0 to 100$/);
    },
  );
});

describe('a topic id', () => {
  const put = (topicId: string) => () =>
    parsePutTopic({
      params: { topicId },
      query: {},
      body: {
        pageId: '1001',
        title: 'Deals',
        cadence: 'DAILY',
        sendTime: '09:00',
        message: { text: 'x' },
      },
    });

  it('refuses _unmatched, the counter bucket of status webhooks that join no send', () => {
    expect(put('_unmatched')).toThrow(InvalidInputError);
    expect(put('_unmatched')).toThrow(/^topicId: _unmatched is reserved/);
  });

  it.each([['unmatched'], ['_unmatched2'], ['_other']])('accepts %s', (topicId) => {
    expect(put(topicId)().topic.topicId).toBe(topicId);
  });
});
