import type { Topic } from '../topic.ts';
import {
  type Edition,
  type EditionKey,
  type EditionStore,
  WHEN_NO_EDITION_DEFAULT,
} from './edition.ts';

/** What a topic sends for one date: its edition, its own message, or nothing. */
export type EditionChoice =
  | { kind: 'edition'; edition: Edition; message: Record<string, unknown> }
  | { kind: 'default'; message: Record<string, unknown> }
  | { kind: 'skip' };

/** The one rule of what a slot sends: the date's edition, else what `whenNoEdition` says. */
export function chooseMessage(
  topic: Pick<Topic, 'message' | 'whenNoEdition'>,
  edition: Edition | undefined,
): EditionChoice {
  if (edition) return { kind: 'edition', edition, message: edition.message };
  return (topic.whenNoEdition ?? WHEN_NO_EDITION_DEFAULT) === 'skip'
    ? { kind: 'skip' }
    : { kind: 'default', message: topic.message };
}

/** A save that keeps racing the sender's mark this many times is sent as last read, unmarked. */
const MARK_ATTEMPTS = 3;

/**
 * The edition to send, with its first send recorded before anyone gets it: a conditional write
 * on the version read, made only while the edition has not gone out (once per edition, not per
 * send). A save in between is read again, so nobody gets a message that was replaced.
 */
export async function editionForSending(
  store: Pick<EditionStore, 'get' | 'markSent'>,
  key: EditionKey,
  read: Edition | undefined,
  now: number,
): Promise<Edition | undefined> {
  let edition = read;
  for (let attempt = 0; edition && edition.firstSentAt === undefined; attempt++) {
    if ((await store.markSent(key, edition.version, now)) === 'marked') {
      return { ...edition, firstSentAt: now };
    }
    edition = await store.get(key);
    if (attempt + 1 >= MARK_ATTEMPTS) break;
  }
  return edition;
}
