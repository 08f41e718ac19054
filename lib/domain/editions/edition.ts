import * as z from 'zod';

/** A topic's message for one local date: everyone whose slot falls on that date gets it. */
export interface Edition {
  pageId: string;
  topicId: string;
  /** The local calendar date, `YYYY-MM-DD`, in each subscriber's own zone. */
  date: string;
  /** A Send API `message` object, checked when it was saved. */
  message: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
  /** When a sender first took it for a send: from then on it can be neither changed nor deleted. */
  firstSentAt?: number;
  /** Bumped by every save: the sender marks the first send only on the version it read. */
  version: number;
}

/** Names one edition. */
export interface EditionKey {
  pageId: string;
  topicId: string;
  date: string;
}

/** What a topic's slot does on a date without an edition. */
export const whenNoEditionSchema = z.enum(['default', 'skip']);
export type WhenNoEdition = z.infer<typeof whenNoEditionSchema>;

/** The default: the topic's own message, as before editions existed. */
export const WHEN_NO_EDITION_DEFAULT: WhenNoEdition = 'default';

/** What came of saving an edition. */
export type EditionSave =
  | { kind: 'saved'; created: boolean; edition: Edition }
  | { kind: 'sent'; firstSentAt: number };

/** What came of deleting an edition. */
export type EditionDelete =
  | { kind: 'deleted' }
  | { kind: 'missing' }
  | { kind: 'sent'; firstSentAt: number };

/** Editions of topics, one item per topic and date, apart from the Page's partition. */
export interface EditionStore {
  /** One edition (strongly consistent), or undefined. */
  get(key: EditionKey): Promise<Edition | undefined>;
  /** A topic's editions from `from` to `to` (inclusive, `YYYY-MM-DD`), by date. */
  list(query: { pageId: string; topicId: string; from: string; to: string }): Promise<Edition[]>;
  /** Creates or replaces an edition unless it has already gone out. */
  put(edition: EditionKey & { message: Record<string, unknown> }, at: number): Promise<EditionSave>;
  /** Deletes an edition unless it has already gone out. */
  delete(key: EditionKey): Promise<EditionDelete>;
  /**
   * Records the first send of an edition, only while it is still at `version` (so a save in
   * between is never sent unmarked); 'changed' when it was saved again or deleted meanwhile.
   */
  markSent(key: EditionKey, version: number, at: number): Promise<'marked' | 'changed'>;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Whether `value` is a real calendar date written `YYYY-MM-DD` (no 2026-02-30). */
export function isEditionDate(value: string): boolean {
  const match = DATE.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return (
    year >= 2000 &&
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day
  );
}

/** A `YYYY-MM-DD` calendar date, checked. */
export const editionDateSchema = z
  .string({ error: 'required: a date YYYY-MM-DD' })
  .refine(isEditionDate, 'must be a calendar date YYYY-MM-DD (from 2000)');
