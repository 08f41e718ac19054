import { describe, expect, it } from 'vitest';
import { fixedClock } from '#lib/clock.ts';
import type { Edition, EditionKey } from '#lib/domain/editions/edition.ts';
import type { Page } from '#lib/domain/page.ts';
import type { Catalog } from '#lib/domain/ports.ts';
import {
  CATALOG_TTL_MS,
  cachedCatalog,
  cachedEditionReads,
  readCache,
} from '#lib/domain/read-cache.ts';
import type { Topic } from '#lib/domain/topic.ts';
import { aPage, aTopic } from '../../support/fixtures.ts';

const T0 = 1_763_715_600_000;

/** A catalog over two maps, counting its reads. */
function countingCatalog() {
  const pages = new Map<string, Page>();
  const topics = new Map<string, Topic>();
  const reads = { pages: 0, topics: 0 };
  const catalog: Catalog = {
    getPage: async (pageId) => {
      reads.pages++;
      return pages.get(pageId);
    },
    getTopic: async (pageId, topicId) => {
      reads.topics++;
      return topics.get(`${pageId}#${topicId}`);
    },
  };
  return { catalog, pages, topics, reads };
}

describe('cachedCatalog', () => {
  it('reads a Page once while it is fresh, however many batches ask', async () => {
    const clock = fixedClock(T0);
    const store = countingCatalog();
    store.pages.set('1001', aPage());
    const catalog = cachedCatalog(store.catalog, clock);

    await Promise.all([catalog.getPage('1001'), catalog.getPage('1001')]);
    clock.set(T0 + CATALOG_TTL_MS - 1);
    const page = await catalog.getPage('1001');

    expect(page?.pageId).toBe('1001');
    expect(store.reads.pages).toBe(1);
  });

  it('reads the Page again once its time is up, and sees the change', async () => {
    const clock = fixedClock(T0);
    const store = countingCatalog();
    store.pages.set('1001', aPage());
    const catalog = cachedCatalog(store.catalog, clock);
    await catalog.getPage('1001');

    store.pages.set('1001', aPage({ status: 'paused' }));
    clock.set(T0 + CATALOG_TTL_MS);
    const page = await catalog.getPage('1001');

    expect(page?.status).toBe('paused');
    expect(store.reads.pages).toBe(2);
  });

  it('never keeps a topic it did not find, so a topic just created is found at once', async () => {
    const clock = fixedClock(T0);
    const store = countingCatalog();
    const catalog = cachedCatalog(store.catalog, clock);
    expect(await catalog.getTopic('1001', 'deals')).toBeUndefined();

    store.topics.set('1001#deals', aTopic());
    const topic = await catalog.getTopic('1001', 'deals');

    expect(topic?.topicId).toBe('deals');
    expect(store.reads.topics).toBe(2);
  });

  it('reads again what this container forgot after changing it', async () => {
    const clock = fixedClock(T0);
    const store = countingCatalog();
    store.pages.set('1001', aPage());
    store.topics.set('1001#deals', aTopic());
    const catalog = cachedCatalog(store.catalog, clock);
    await Promise.all([catalog.getPage('1001'), catalog.getTopic('1001', 'deals')]);

    store.pages.set('1001', aPage({ status: 'paused' }));
    store.topics.set('1001#deals', aTopic({ title: 'Deals of the day' }));
    catalog.forgetPage('1001');
    catalog.forgetTopic('1001', 'deals');

    expect((await catalog.getPage('1001'))?.status).toBe('paused');
    expect((await catalog.getTopic('1001', 'deals'))?.title).toBe('Deals of the day');
  });
});

describe('readCache', () => {
  it('does not keep a failed read: the next caller tries the store again', async () => {
    const cache = readCache<string>(fixedClock(T0), { ttlMs: 60_000 });
    let calls = 0;
    const load = async () => {
      calls++;
      if (calls === 1) throw new Error('throttled');
      return 'value';
    };

    await expect(cache.read('key', load)).rejects.toThrow('throttled');
    const value = await cache.read('key', load);

    expect(value).toBe('value');
    expect(calls).toBe(2);
  });
});

describe('cachedEditionReads', () => {
  const key: EditionKey = { pageId: '1001', topicId: 'deals', date: '2026-12-07' };
  const anEdition = (overrides: Partial<Edition> = {}): Edition => ({
    ...key,
    message: { text: 'Socks 3 for 2' },
    createdAt: T0,
    updatedAt: T0,
    version: 1,
    ...overrides,
  });

  /** An edition store holding one edition, counting its reads. */
  function oneEdition(edition: Edition) {
    const state = { edition, reads: 0 };
    const store = {
      get: async (_key: EditionKey) => {
        state.reads++;
        return state.edition;
      },
    };
    return { state, store };
  }

  it('reads an edition not yet sent every time, as its first send is marked on the version read', async () => {
    const { state, store } = oneEdition(anEdition());
    const editions = cachedEditionReads(store, fixedClock(T0));

    await editions.get(key);
    state.edition = anEdition({ version: 2, message: { text: 'Scarves -30 %' } });
    const read = await editions.get(key);

    expect(read?.version).toBe(2);
    expect(state.reads).toBe(2);
  });

  it('keeps an edition that has gone out, as it can no longer change', async () => {
    const { state, store } = oneEdition(anEdition({ firstSentAt: T0 }));
    const editions = cachedEditionReads(store, fixedClock(T0));

    await editions.get(key);
    const read = await editions.get(key);

    expect(read?.firstSentAt).toBe(T0);
    expect(state.reads).toBe(1);
  });
});
