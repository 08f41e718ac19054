import { mapWithConcurrency } from '../../concurrency.ts';
import type { Log } from '../../log.ts';
import {
  CONTENT_SIGNATURE_HEADER,
  CONTENT_SOURCE_FAILED_LOG_MESSAGE,
  type ContentRequest,
  type ContentSecretStore,
  signContentBody,
} from '../content-source.ts';
import type { EditionKey, EditionStore } from '../editions/edition.ts';
import { messageProblem } from '../message-rules.ts';
import { sendApiMessageSchema } from '../message-schema.ts';
import type { DeliveryRoute } from '../page.ts';
import type { Cadence, Topic } from '../topic.ts';
import { slotDate } from './edition-skips.ts';
import type { PagePlan } from './run-fanout.ts';

/** How long one request may take, how often a failed one is tried again, and the first wait. */
export const CONTENT_SOURCE_DEFAULTS = { timeoutMs: 3_000, retries: 2, backoffMs: 250 } as const;
/** A topic's asks stop once they took this long: a slow source never holds a run for long. */
const TOPIC_BUDGET_MS = 12_000;
/** Topics whose sources are asked at once: one slow source never holds the others back. */
const TOPICS_AT_ONCE = 8;

/** What one POST to a content source came to; the client never throws. */
export type ContentAnswer =
  | { kind: 'answered'; status: number; body: string }
  | { kind: 'timeout' }
  | { kind: 'unreachable'; reason: string };

/** The HTTP call to a topic's content source. */
export interface ContentSourceClient {
  post(
    url: string,
    request: { body: string; headers: Record<string, string>; timeoutMs: number },
  ): Promise<ContentAnswer>;
}

/** What an answer means for the date: an edition, none, or a failure (retried when transient). */
export type ContentOutcome =
  | { kind: 'edition'; message: Record<string, unknown> }
  | { kind: 'none' }
  | { kind: 'failed'; reason: string; retry: boolean };

/** What the fan-out needs to ask content sources and keep what they answer. */
export interface ContentSourceDeps {
  client: ContentSourceClient;
  secrets: Pick<ContentSecretStore, 'get'>;
  /** Stores a date's edition unless one is stored already: then theirs is kept ('exists'). */
  editions: {
    create(
      edition: EditionKey & { message: Record<string, unknown> },
      at: number,
    ): Promise<'created' | 'exists'>;
  };
  timeoutMs: number;
  retries: number;
  backoffMs: number;
  sleep(ms: number): Promise<void>;
}

/**
 * Before a run plans its jobs: asks each content source topic's `contentUrl` for every local
 * date its slots in the window fall on that has no stored edition, once per (topic, date) and
 * run, and stores a good answer as that date's edition (a conditional write: if another run
 * stored one meanwhile, theirs stays, so every zone and retry sends the same). A 204 leaves the
 * date without one; a failure is logged and counted, and `whenNoEdition` then decides. Returns
 * the plans as they were.
 */
export async function withContentEditions(
  plans: PagePlan[],
  window: { cadence: Cadence; from: number; to: number; continued: boolean },
  deps: {
    contentSource?: ContentSourceDeps;
    editions?: Pick<EditionStore, 'list'>;
    log: Log;
    timeLeft(): number;
  },
): Promise<PagePlan[]> {
  const { contentSource, editions } = deps;
  // A continuation's dates were asked by the invocation that started the run.
  if (!contentSource || !editions || window.continued) return plans;
  const asks: { topic: Topic & { contentUrl: string }; route: DeliveryRoute; dates: string[] }[] =
    [];
  for (const { page, topics, zones } of plans) {
    if (page.status !== 'active') continue;
    for (const topic of topics) {
      const { contentUrl } = topic;
      if (contentUrl === undefined || topic.paused) continue;
      const dates = new Set<string>();
      for (const placement of zones.get(topic.topicId) ?? []) {
        if (placement.cadence !== window.cadence) continue;
        const date = slotDate(topic, placement.zone, window);
        if (date !== undefined) dates.add(date);
      }
      if (dates.size > 0)
        asks.push({
          topic: { ...topic, contentUrl },
          route: page.deliveryRoute,
          dates: [...dates].sort(),
        });
    }
  }
  await mapWithConcurrency(asks, TOPICS_AT_ONCE, async (ask) => {
    const { pageId, topicId } = ask.topic;
    try {
      await askForTopic(ask, window, { ...deps, contentSource, editions });
    } catch (error: unknown) {
      // Storage failing (the secret, the editions): the run goes on as if the source had failed.
      deps.log.error(CONTENT_SOURCE_FAILED_LOG_MESSAGE, {
        pageId,
        topicId,
        dates: ask.dates,
        reason: `storage: ${error instanceof Error ? error.name : 'error'}`,
      });
    }
  });
  return plans;
}

async function askForTopic(
  ask: { topic: Topic & { contentUrl: string }; route: DeliveryRoute; dates: string[] },
  window: { cadence: Cadence; from: number; to: number },
  deps: {
    contentSource: ContentSourceDeps;
    editions: Pick<EditionStore, 'list'>;
    log: Log;
    timeLeft(): number;
  },
): Promise<void> {
  const { topic, route, dates } = ask;
  const { pageId, topicId } = topic;
  const [from, to] = [dates[0] ?? '', dates.at(-1) ?? ''];
  const stored = new Set(
    (await deps.editions.list({ pageId, topicId, from, to })).map((edition) => edition.date),
  );
  const missing = dates.filter((date) => !stored.has(date));
  if (missing.length === 0) return;
  const failed = (date: string, reason: string, attempts: number) =>
    deps.log.error(CONTENT_SOURCE_FAILED_LOG_MESSAGE, {
      pageId,
      topicId,
      date,
      reason,
      attempts,
      whenNoEdition: topic.whenNoEdition ?? 'default',
    });
  const secret = await deps.contentSource.secrets.get({ pageId, topicId });
  if (secret === undefined) {
    for (const date of missing) failed(date, 'the topic has no content secret: rotate it', 0);
    return;
  }
  const startedWith = deps.timeLeft();
  const outOfTime = () => startedWith - deps.timeLeft() > TOPIC_BUDGET_MS;
  for (const date of missing) {
    const request: ContentRequest = { pageId, topicId, date, cadence: window.cadence };
    const { outcome, attempts } = await askSource(topic.contentUrl, request, secret, route, {
      ...deps.contentSource,
      outOfTime,
    });
    if (outcome.kind === 'failed') {
      failed(date, outcome.reason, attempts);
    } else if (outcome.kind === 'none') {
      deps.log.info('content source has no edition', { pageId, topicId, date });
    } else {
      const created = await deps.contentSource.editions.create(
        { pageId, topicId, date, message: outcome.message },
        window.to,
      );
      deps.log.info(
        created === 'created'
          ? 'content source edition stored'
          : 'content source edition kept: another run stored one first',
        { pageId, topicId, date, attempts },
      );
    }
  }
}

/** One date's ask: the signed POST, tried again after transient failures, boundedly. */
async function askSource(
  url: string,
  request: ContentRequest,
  secret: string,
  route: DeliveryRoute,
  deps: ContentSourceDeps & { outOfTime(): boolean },
): Promise<{ outcome: ContentOutcome; attempts: number }> {
  const body = JSON.stringify(request);
  const headers = {
    'content-type': 'application/json',
    [CONTENT_SIGNATURE_HEADER]: signContentBody(body, secret),
  };
  let outcome: ContentOutcome = { kind: 'failed', reason: 'out of time', retry: false };
  let attempts = 0;
  while (attempts <= deps.retries && !deps.outOfTime()) {
    if (attempts > 0) await deps.sleep(deps.backoffMs * 2 ** (attempts - 1));
    attempts++;
    outcome = readContentAnswer(
      await deps.client.post(url, { body, headers, timeoutMs: deps.timeoutMs }),
      route,
      deps.timeoutMs,
    );
    if (outcome.kind !== 'failed' || !outcome.retry) break;
  }
  return { outcome, attempts };
}

/**
 * What a source's answer means: `200 {message}` with a message Meta would take on `route` is
 * the date's edition, `204` is none; a timeout, no connection, 429 and 5xx are transient
 * failures; any other status, a body that is not JSON or a message Meta would refuse fail for
 * good. Reasons name what was wrong, never the body itself.
 */
export function readContentAnswer(
  answer: ContentAnswer,
  route: DeliveryRoute,
  timeoutMs: number,
): ContentOutcome {
  if (answer.kind === 'timeout')
    return { kind: 'failed', reason: `no answer within ${timeoutMs} ms`, retry: true };
  if (answer.kind === 'unreachable')
    return { kind: 'failed', reason: `unreachable: ${answer.reason}`, retry: true };
  const { status } = answer;
  if (status === 204) return { kind: 'none' };
  if (status !== 200) {
    return { kind: 'failed', reason: `answered ${status}`, retry: status === 429 || status >= 500 };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.body);
  } catch {
    return { kind: 'failed', reason: 'answered 200 with a body that is not JSON', retry: false };
  }
  const message =
    typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>).message
      : undefined;
  if (message === undefined)
    return { kind: 'failed', reason: 'answered 200 without a message', retry: false };
  const checked = sendApiMessageSchema.safeParse(message);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    const field = ['message', ...(issue?.path ?? [])].join('.');
    return { kind: 'failed', reason: `${field}: ${issue?.message ?? 'invalid'}`, retry: false };
  }
  const sendable = { ...checked.data };
  const problem = messageProblem(sendable, route);
  if (problem !== undefined) return { kind: 'failed', reason: problem, retry: false };
  return { kind: 'edition', message: sendable };
}
