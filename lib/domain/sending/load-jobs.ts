import type { Page } from '../page.ts';
import type { SendJob } from '../send-job.ts';
import { type Subscription, type SubscriptionKey, subscriptionId } from '../subscription.ts';
import type { Topic } from '../topic.ts';
import type { PersonView } from './person-budget.ts';
import type { PersonRecord } from './ports.ts';
import { keyOf, type RunContext } from './run-context.ts';

/** What was loaded for the jobs of one batch. */
export interface Loaded {
  subscriptions: Map<string, Subscription>;
  pages: Map<string, Page | undefined>;
  topics: Map<string, Topic | undefined>;
  /** The person behind each Marketing Message job, by subscription id. */
  people: Map<string, PersonView>;
}

/**
 * Reads every Page and topic the batch's jobs need, each once, then their subscriptions: one
 * BatchGet for the legacy route, and on the Marketing Message route one Query of each person's
 * partition, which holds all their subscriptions and budgets (the person budget needs them all).
 */
export async function loadJobs(run: RunContext, jobs: readonly SendJob[]): Promise<Loaded> {
  const { subscriptions: store, catalog } = run.deps;
  const pageIds = new Set(jobs.map((job) => job.pageId));
  const topics = new Map<string, Topic | undefined>();
  const loadTopics = (wanted: readonly { pageId: string; topicId: string }[]) =>
    Promise.all(
      [...new Map(wanted.map((key) => [topicKey(key), key]))]
        .filter(([id]) => !topics.has(id))
        .map(async ([id, { pageId, topicId }]) => {
          topics.set(id, await catalog.getTopic(pageId, topicId));
        }),
    );
  const [pages] = await Promise.all([
    Promise.all([...pageIds].map(async (id) => [id, await catalog.getPage(id)] as const)),
    loadTopics(jobs),
  ]);
  const byPage = new Map(pages);
  const isMarketing = (job: SendJob) =>
    byPage.get(job.pageId)?.deliveryRoute === 'marketing_messages';
  const legacyKeys = new Map<string, SubscriptionKey>();
  const personKeys = new Map<string, { pageId: string; psid: string }>();
  for (const job of jobs) {
    if (isMarketing(job)) personKeys.set(personId(job), { pageId: job.pageId, psid: job.psid });
    else legacyKeys.set(subscriptionId(job), keyOf(job));
  }
  const [legacy, records] = await Promise.all([
    legacyKeys.size > 0 ? store.getMany([...legacyKeys.values()]) : [],
    Promise.all(
      [...personKeys].map(
        async ([id, person]) => [id, await run.deps.sends.readPerson(person)] as const,
      ),
    ),
  ]);
  const people = new Map(records);
  await loadTopics([...people.values()].flatMap((record) => record.subscriptions));
  const subscriptions = new Map(legacy.map((item) => [subscriptionId(item), item]));
  for (const record of people.values()) {
    for (const item of record.subscriptions) subscriptions.set(subscriptionId(item), item);
  }
  const views = new Map<string, PersonView>();
  for (const job of jobs) {
    const record = people.get(personId(job));
    const subscription = subscriptions.get(subscriptionId(job));
    if (record && subscription)
      views.set(subscriptionId(job), personView(record, subscription, topics));
  }
  return { subscriptions, pages: byPage, topics, people: views };
}

/** The key of a topic in `Loaded.topics`. */
export function topicKey({ pageId, topicId }: { pageId: string; topicId: string }): string {
  return `${pageId}#${topicId}`;
}

function personId({ pageId, psid }: { pageId: string; psid: string }): string {
  return `${pageId}#${psid}`;
}

/** The person as one subscription's budget sees them: those who share its token are one person. */
function personView(
  record: PersonRecord,
  subscription: Subscription,
  topics: ReadonlyMap<string, Topic | undefined>,
): PersonView {
  const { token } = subscription;
  const holders = record.subscriptions
    .filter((item) => item.token === token && item.topicId !== subscription.topicId)
    .map((item) => ({ subscription: item, topic: topics.get(topicKey(item)) }));
  const budget = record.budgets.find((entry) => entry.token === token)?.budget;
  const { conversations } = record;
  return {
    holders,
    ...(budget && { budget }),
    ...(conversations && conversations.length > 0 && { conversations }),
  };
}
