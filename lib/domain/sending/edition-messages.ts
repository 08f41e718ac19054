import type { Edition, EditionKey } from '../editions/edition.ts';
import { chooseMessage, editionForSending } from '../editions/edition-choice.ts';
import { editionDateOf } from '../editions/edition-date.ts';
import { type SendJob, sendJobId } from '../send-job.ts';
import { subscriptionId } from '../subscription.ts';
import type { SendVerdict } from './judge-job.ts';
import { type Loaded, topicKey } from './load-jobs.ts';
import type { Item, RunContext } from './run-context.ts';

type Entry = { item: Item; verdict: SendVerdict };

/**
 * Notes each loaded job's edition date on the batch (the local date of its slot in the
 * subscriber's zone), so its counts also go to that edition; only when editions are kept.
 */
export function noteEditionDates(run: RunContext, jobs: readonly SendJob[], loaded: Loaded): void {
  if (!run.deps.editions) return;
  for (const job of jobs) {
    const topic = loaded.topics.get(topicKey(job));
    const subscription = loaded.subscriptions.get(subscriptionId(job));
    if (!topic || !subscription) continue;
    try {
      run.editionDates.set(sendJobId(job), editionDateOf(topic, subscription.timezone, job.slot));
    } catch {
      // A topic whose slots cannot be computed is judged (and refused) on its own.
    }
  }
}

/**
 * Gives each job about to be sent the message of its edition: the topic's edition for the local
 * date of the job's slot in the subscriber's zone, read once per batch per topic and date, its
 * first send recorded before it leaves. A date without one sends the topic's message, or
 * nothing when the topic says `skip` (those jobs come back in `skipped`).
 */
export async function withEditions(
  run: RunContext,
  groups: ReadonlyMap<string, Entry[]>,
): Promise<{ groups: Map<string, Entry[]>; skipped: { item: Item; date: string }[] }> {
  const { editions } = run.deps;
  if (!editions) return { groups: new Map(groups), skipped: [] };
  const keyed = new Map<string, EditionKey>();
  const dated = new Map<Entry, string>();
  for (const entries of groups.values()) {
    for (const entry of entries) {
      const { topic, subscription } = entry.verdict;
      const date = editionDateOf(topic, subscription.timezone, entry.item.job.slot);
      const key = { pageId: topic.pageId, topicId: topic.topicId, date };
      keyed.set(editionId(key), key);
      dated.set(entry, editionId(key));
    }
  }
  const now = run.deps.clock.now();
  const found = new Map<string, Edition | undefined>(
    await Promise.all(
      [...keyed].map(async ([id, key]) => {
        const read = await editions.get(key);
        return [id, await editionForSending(editions, key, read, now)] as const;
      }),
    ),
  );
  const kept = new Map<string, Entry[]>();
  const skipped: { item: Item; date: string }[] = [];
  for (const [pageId, entries] of groups) {
    const sending: Entry[] = [];
    for (const entry of entries) {
      const id = dated.get(entry) ?? '';
      const choice = chooseMessage(entry.verdict.topic, found.get(id));
      if (choice.kind === 'skip') {
        skipped.push({ item: entry.item, date: keyed.get(id)?.date ?? '' });
        continue;
      }
      const topic = { ...entry.verdict.topic, message: choice.message };
      sending.push({ item: entry.item, verdict: { ...entry.verdict, topic } });
    }
    if (sending.length > 0) kept.set(pageId, sending);
  }
  return { groups: kept, skipped };
}

function editionId({ pageId, topicId, date }: EditionKey): string {
  return `${pageId}#${topicId}#${date}`;
}
