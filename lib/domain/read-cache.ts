import type { Clock } from '../clock.ts';
import type { EditionStore } from './editions/edition.ts';
import type { Catalog } from './ports.ts';

/**
 * How long a container trusts a Page or topic it read: the sender and the webhook read them
 * for every batch and delivery, and a Page at 40 sends a second has four batches a second. An
 * operator's change (a pause, a new access token, a new rate) reaches them within this time.
 */
export const CATALOG_TTL_MS = 5_000;

/** Entries one cache keeps at most; the oldest go first (a container serves a few Pages). */
const MAX_ENTRIES = 1_000;

/**
 * Reads by key through a short-lived cache: concurrent reads of one key share one request,
 * and a value is kept for `ttlMs` on `clock` only when `keep` says so. A miss (undefined) or a
 * failed read is never kept, so a Page or topic created a moment ago is found at once.
 */
export function readCache<V>(
  clock: Clock,
  options: { ttlMs: number; keep?: (value: V) => boolean },
) {
  const entries = new Map<string, { until: number; value: Promise<V | undefined> }>();
  const keep = options.keep ?? (() => true);
  return {
    read(key: string, load: () => Promise<V | undefined>): Promise<V | undefined> {
      const now = clock.now();
      const cached = entries.get(key);
      if (cached && cached.until > now) return cached.value;
      const value = load();
      entries.delete(key);
      if (entries.size >= MAX_ENTRIES) entries.delete(entries.keys().next().value ?? '');
      entries.set(key, { until: now + options.ttlMs, value });
      const forgetUnlessKept = (found: V | undefined) => {
        if (found !== undefined && keep(found)) return;
        if (entries.get(key)?.value === value) entries.delete(key);
      };
      value.then(forgetUnlessKept, () => forgetUnlessKept(undefined));
      return value;
    },
    /** Drops `key`, so its next read goes to the store (this container changed it). */
    forget(key: string): void {
      entries.delete(key);
    },
  };
}

/** A catalog that also drops what this container has just changed. */
export interface CachedCatalog extends Catalog {
  forgetPage(pageId: string): void;
  forgetTopic(pageId: string, topicId: string): void;
}

/** A catalog whose Pages and topics are read at most once per `CATALOG_TTL_MS` per container. */
export function cachedCatalog(catalog: Catalog, clock: Clock): CachedCatalog {
  type Found<K extends keyof Catalog> = Awaited<ReturnType<Catalog[K]>>;
  const pages = readCache<Found<'getPage'>>(clock, { ttlMs: CATALOG_TTL_MS });
  const topics = readCache<Found<'getTopic'>>(clock, { ttlMs: CATALOG_TTL_MS });
  return {
    getPage: (pageId) => pages.read(pageId, () => catalog.getPage(pageId)),
    getTopic: (pageId, topicId) =>
      topics.read(`${pageId}#${topicId}`, () => catalog.getTopic(pageId, topicId)),
    forgetPage: (pageId) => pages.forget(pageId),
    forgetTopic: (pageId, topicId) => topics.forget(`${pageId}#${topicId}`),
  };
}

/** How long a container keeps an edition that has gone out: it can no longer change. */
const SENT_EDITION_TTL_MS = 3_600_000;

/**
 * Edition reads that keep an edition once it has gone out (its first send is marked, after
 * which the admin API refuses to change or delete it); one not yet sent is read every time,
 * as its first send must be marked on the version read.
 */
export function cachedEditionReads<S extends Pick<EditionStore, 'get'>>(store: S, clock: Clock): S {
  const sent = readCache<Awaited<ReturnType<EditionStore['get']>>>(clock, {
    ttlMs: SENT_EDITION_TTL_MS,
    keep: (edition) => edition?.firstSentAt !== undefined,
  });
  return {
    ...store,
    get: (key) => sent.read(`${key.pageId}#${key.topicId}#${key.date}`, () => store.get(key)),
  };
}
