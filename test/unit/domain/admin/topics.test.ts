import { describe, expect, it } from 'vitest';
import { sendApiMessageSchema } from '#lib/domain/admin/topics.ts';

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
