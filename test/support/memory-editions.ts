import type { Edition, EditionKey, EditionStore } from '#lib/domain/editions/edition.ts';

/**
 * Editions in memory, with the conditions DynamoDB applies (no save or delete once sent, the
 * first send marked only on the version read); `writes` counts every write that landed.
 */
export function memoryEditions(): EditionStore & { items: Map<string, Edition>; writes: string[] } {
  const items = new Map<string, Edition>();
  const writes: string[] = [];
  const id = ({ pageId, topicId, date }: EditionKey) => `${pageId}#${topicId}#${date}`;
  return {
    items,
    writes,
    async get(key) {
      const edition = items.get(id(key));
      return edition && structuredClone(edition);
    },
    async list({ pageId, topicId, from, to }) {
      return [...items.values()]
        .filter(
          (edition) =>
            edition.pageId === pageId &&
            edition.topicId === topicId &&
            edition.date >= from &&
            edition.date <= to,
        )
        .sort((a, b) => (a.date < b.date ? -1 : 1))
        .map((edition) => structuredClone(edition));
    },
    async put({ pageId, topicId, date, message }, at) {
      const stored = items.get(id({ pageId, topicId, date }));
      if (stored?.firstSentAt !== undefined)
        return { kind: 'sent', firstSentAt: stored.firstSentAt };
      const edition: Edition = {
        pageId,
        topicId,
        date,
        message: structuredClone(message),
        createdAt: stored?.createdAt ?? at,
        updatedAt: at,
        version: (stored?.version ?? 0) + 1,
      };
      items.set(id(edition), edition);
      writes.push(`put ${id(edition)}`);
      return { kind: 'saved', created: stored === undefined, edition: structuredClone(edition) };
    },
    async delete(key) {
      const stored = items.get(id(key));
      if (!stored) return { kind: 'missing' };
      if (stored.firstSentAt !== undefined)
        return { kind: 'sent', firstSentAt: stored.firstSentAt };
      items.delete(id(key));
      writes.push(`delete ${id(key)}`);
      return { kind: 'deleted' };
    },
    async markSent(key, version, at) {
      const stored = items.get(id(key));
      if (stored?.version !== version) return 'changed';
      stored.firstSentAt ??= at;
      writes.push(`mark ${id(key)}`);
      return 'marked';
    },
  };
}

/**
 * The fan-out's conditional create of a content source's edition over `memoryEditions`: an
 * edition already stored for the date is kept, as DynamoDB's `attribute_not_exists` keeps it.
 */
export function memoryContentEditions(editions: ReturnType<typeof memoryEditions>) {
  return {
    async create(
      { pageId, topicId, date, message }: EditionKey & { message: Record<string, unknown> },
      at: number,
    ): Promise<'created' | 'exists'> {
      const key = `${pageId}#${topicId}#${date}`;
      if (editions.items.has(key)) return 'exists';
      const edition: Edition = {
        pageId,
        topicId,
        date,
        message: structuredClone(message),
        createdAt: at,
        updatedAt: at,
        version: 1,
      };
      editions.items.set(key, edition);
      editions.writes.push(`create ${key}`);
      return 'created';
    },
  };
}
