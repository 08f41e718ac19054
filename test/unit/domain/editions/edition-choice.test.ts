import { describe, expect, it } from 'vitest';
import type { EditionKey } from '#lib/domain/editions/edition.ts';
import { chooseMessage, editionForSending } from '#lib/domain/editions/edition-choice.ts';
import { memoryEditions } from '../../../support/memory-editions.ts';

const key: EditionKey = { pageId: '1001', topicId: 'deals', date: '2026-12-05' };
const topicMessage = { text: 'Our deals' };
const NOW = Date.parse('2026-12-05T08:00:00Z');

describe('chooseMessage', () => {
  it("sends the date's edition when there is one, whatever the topic says", async () => {
    const store = memoryEditions();
    const saved = await store.put({ ...key, message: { text: '5 December: socks' } }, NOW);
    const edition = saved.kind === 'saved' ? saved.edition : undefined;

    expect(chooseMessage({ message: topicMessage, whenNoEdition: 'skip' }, edition)).toMatchObject({
      kind: 'edition',
      message: { text: '5 December: socks' },
    });
  });

  it("sends the topic's own message on a date without one, by default", () => {
    expect(chooseMessage({ message: topicMessage }, undefined)).toEqual({
      kind: 'default',
      message: topicMessage,
    });
    expect(chooseMessage({ message: topicMessage, whenNoEdition: 'default' }, undefined).kind).toBe(
      'default',
    );
  });

  it('sends nothing on a date without one when the topic skips such dates', () => {
    expect(chooseMessage({ message: topicMessage, whenNoEdition: 'skip' }, undefined)).toEqual({
      kind: 'skip',
    });
  });
});

describe('editionForSending', () => {
  it('records the first send once, before the edition goes out', async () => {
    const store = memoryEditions();
    await store.put({ ...key, message: { text: 'socks' } }, NOW - 1000);
    const read = await store.get(key);

    const first = await editionForSending(store, key, read, NOW);
    const again = await editionForSending(store, key, await store.get(key), NOW + 5000);

    expect(first?.firstSentAt).toBe(NOW);
    expect(again?.firstSentAt).toBe(NOW);
    expect(store.writes.filter((write) => write.startsWith('mark'))).toHaveLength(1);
    expect(await store.put({ ...key, message: { text: 'later' } }, NOW)).toEqual({
      kind: 'sent',
      firstSentAt: NOW,
    });
  });

  it('sends the message saved after it was read, never the replaced one', async () => {
    const store = memoryEditions();
    await store.put({ ...key, message: { text: 'first draft' } }, NOW - 2000);
    const read = await store.get(key);
    await store.put({ ...key, message: { text: 'final' } }, NOW - 1000);

    const sent = await editionForSending(store, key, read, NOW);

    expect(sent?.message).toEqual({ text: 'final' });
    expect((await store.get(key))?.firstSentAt).toBe(NOW);
  });

  it('sends no edition when it was deleted after it was read', async () => {
    const store = memoryEditions();
    await store.put({ ...key, message: { text: 'gone' } }, NOW - 2000);
    const read = await store.get(key);
    await store.delete(key);

    expect(await editionForSending(store, key, read, NOW)).toBeUndefined();
  });
});
