import type { Clock } from '../../clock.ts';
import type { EditionStore } from '../editions/edition.ts';
import { messageProblem } from '../message-rules.ts';
import type { DeliveryRoute } from '../page.ts';
import type { AdminCatalog } from './ports.ts';

const DAY_MS = 86_400_000;
/** Editions are looked at this far ahead: further than anyone plans a topic's content. */
const EDITIONS_AHEAD_DAYS = 2 * 366;

/**
 * Why a Page's stored messages cannot go over `route`, as `<what>: <why>`, or undefined: each
 * topic's own message and each edition not sent yet, checked as they were at save time
 * (`messageProblem`), so a route change never leaves a message Meta would refuse (a
 * `{{first_name}}` on the legacy route, a text over the Marketing Message limit).
 */
export async function routeChangeProblem(
  pageId: string,
  route: DeliveryRoute,
  deps: { catalog: AdminCatalog; editions: Pick<EditionStore, 'list'>; clock: Clock },
): Promise<string | undefined> {
  const now = deps.clock.now();
  // From yesterday in UTC: the date some zone still has to reach.
  const from = isoDate(now - DAY_MS);
  const to = isoDate(now + EDITIONS_AHEAD_DAYS * DAY_MS);
  for (const topic of await deps.catalog.listTopics(pageId)) {
    const own = messageProblem(topic.message, route);
    if (own) return `topic ${topic.topicId}: ${own}`;
    const editions = await deps.editions.list({ pageId, topicId: topic.topicId, from, to });
    for (const edition of editions) {
      if (edition.firstSentAt !== undefined) continue;
      const problem = messageProblem(edition.message, route);
      if (problem) return `topic ${topic.topicId}, edition ${edition.date}: ${problem}`;
    }
  }
  return undefined;
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
