import * as z from 'zod';
import { type Edition, type EditionStore, editionDateSchema } from '../editions/edition.ts';
import { datesBetween } from '../editions/edition-date.ts';
import type { EditionResult, EditionResults } from '../editions/edition-results.ts';
import { InvalidInputError, NotFoundError, RefusedError } from '../errors.ts';
import { idSchema } from '../ids.ts';
import { assertSendableMessage } from '../message-rules.ts';
import type { Page } from '../page.ts';
import type { Topic } from '../topic.ts';
import { type AdminRequest, bodyObject, parseInput } from './input.ts';
import { requirePage } from './pages.ts';
import type { AdminCatalog } from './ports.ts';
import { sendApiMessageSchema } from './topics.ts';

/** The longest range one listing reads: a year and a day. */
const LIST_MAX_DAYS = 366;

/** What the edition routes use. */
export interface EditionDeps {
  catalog: AdminCatalog;
  editions: EditionStore;
  clock: { now(): number };
  /** Each edition's results, shown in listings when given. */
  editionResults?: EditionResults;
}

/** An edition as the admin API shows it. */
export interface EditionView {
  pageId: string;
  topicId: string;
  date: string;
  message: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
  /** When it first went out; from then on it cannot be changed or deleted. */
  firstSentAt?: string;
}

const pathSchema = z.object({ topicId: idSchema('topic id'), date: editionDateSchema });
const pageQuerySchema = z.strictObject({ pageId: idSchema('Page id') });

/** One edition named by its path and `pageId`. */
export interface EditionInput {
  pageId: string;
  topicId: string;
  date: string;
}

/** Reads `PUT /admin/topics/{topicId}/editions/{date}` `{pageId, message}`; `putEdition` checks the message. */
export function parsePutEdition(request: AdminRequest): EditionInput & { message: unknown } {
  const path = parseInput(pathSchema, request.params);
  const body = parseInput(
    z.strictObject({
      pageId: idSchema('Page id'),
      message: z.unknown().nonoptional('required: a Send API message object'),
    }),
    bodyObject(request.body),
  );
  return { ...path, pageId: body.pageId, message: body.message };
}

/** Reads `GET` or `DELETE /admin/topics/{topicId}/editions/{date}?pageId=`. */
export function parseEdition(request: AdminRequest): EditionInput {
  return {
    ...parseInput(pathSchema, request.params),
    ...parseInput(pageQuerySchema, request.query),
  };
}

/** Reads `GET /admin/topics/{topicId}/editions?pageId=&from=&to=`. */
export function parseListEditions(request: AdminRequest): {
  pageId: string;
  topicId: string;
  from: string;
  to: string;
} {
  const { topicId } = parseInput(z.object({ topicId: idSchema('topic id') }), request.params);
  const query = parseInput(
    z.strictObject({ pageId: idSchema('Page id'), from: editionDateSchema, to: editionDateSchema }),
    request.query,
  );
  if (query.from > query.to)
    throw new InvalidInputError(`from: ${query.from} is after to (${query.to})`);
  const days = datesBetween(query.from, query.to).length;
  if (days > LIST_MAX_DAYS) {
    throw new InvalidInputError(`to: the range is ${days} days; at most ${LIST_MAX_DAYS}`);
  }
  return { topicId, ...query };
}

/**
 * Creates or replaces the edition of a topic for one local date, unless it has gone out to
 * someone already (409 naming when): everyone whose local date it is gets the same message.
 */
export async function putEdition(
  input: EditionInput & { message: unknown },
  deps: EditionDeps,
): Promise<{ created: boolean; edition: EditionView }> {
  const { page } = await requireTopic(input, deps.catalog);
  const { message } = parseInput(z.object({ message: sendApiMessageSchema }), {
    message: input.message,
  });
  assertSendableMessage(message, page.deliveryRoute);
  const saved = await deps.editions.put(
    { ...keyOf(input), message: { ...message } },
    deps.clock.now(),
  );
  if (saved.kind === 'sent') throw alreadySent(input, saved.firstSentAt);
  return { created: saved.created, edition: editionView(saved.edition) };
}

/** One edition of a topic. */
export async function getEdition(input: EditionInput, deps: EditionDeps): Promise<EditionView> {
  await requireTopic(input, deps.catalog);
  const edition = await deps.editions.get(keyOf(input));
  if (!edition) throw noEdition(input);
  return editionView(edition);
}

/** Deletes an edition that has not gone out yet. */
export async function deleteEdition(
  input: EditionInput,
  deps: EditionDeps,
): Promise<{ deleted: true; date: string }> {
  await requireTopic(input, deps.catalog);
  const result = await deps.editions.delete(keyOf(input));
  if (result.kind === 'missing') throw noEdition(input);
  if (result.kind === 'sent') throw alreadySent(input, result.firstSentAt);
  return { deleted: true, date: input.date };
}

/** A topic's editions from `from` to `to`, by date. */
export async function listEditions(
  input: { pageId: string; topicId: string; from: string; to: string },
  deps: EditionDeps,
): Promise<{
  pageId: string;
  topicId: string;
  from: string;
  to: string;
  items: (EditionView & { results?: EditionResult })[];
}> {
  await requireTopic(input, deps.catalog);
  const { pageId, topicId, from, to } = input;
  const [editions, results] = await Promise.all([
    deps.editions.list(input),
    deps.editionResults?.read(pageId, topicId, from, to) ?? [],
  ]);
  const byDate = new Map(results.map((result) => [result.date, result]));
  return {
    ...input,
    items: editions.map((edition) => {
      const result = byDate.get(edition.date);
      return { ...editionView(edition), ...(result && { results: result }) };
    }),
  };
}

/** The edition as the admin API shows it. */
export function editionView(edition: Edition): EditionView {
  return {
    pageId: edition.pageId,
    topicId: edition.topicId,
    date: edition.date,
    message: edition.message,
    createdAt: new Date(edition.createdAt).toISOString(),
    updatedAt: new Date(edition.updatedAt).toISOString(),
    ...(edition.firstSentAt !== undefined && {
      firstSentAt: new Date(edition.firstSentAt).toISOString(),
    }),
  };
}

async function requireTopic(
  input: { pageId: string; topicId: string },
  catalog: AdminCatalog,
): Promise<{ page: Page; topic: Topic }> {
  const page = await requirePage(catalog, input.pageId);
  const topic = await catalog.getTopic(page.pageId, input.topicId);
  if (!topic) throw new NotFoundError(`Page ${page.pageId} has no topic ${input.topicId}`);
  return { page, topic };
}

function keyOf({ pageId, topicId, date }: EditionInput): EditionInput {
  return { pageId, topicId, date };
}

function noEdition({ topicId, date }: EditionInput): NotFoundError {
  return new NotFoundError(`topic ${topicId} has no edition for ${date}`);
}

function alreadySent({ topicId, date }: EditionInput, firstSentAt: number): RefusedError {
  return new RefusedError(
    `the edition of topic ${topicId} for ${date} first went out at ${new Date(firstSentAt).toISOString()}; an edition that has gone out cannot be changed or deleted`,
    'edition_sent',
  );
}
