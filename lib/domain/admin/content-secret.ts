import * as z from 'zod';
import type { Clock } from '../../clock.ts';
import type { Log } from '../../log.ts';
import {
  type ContentSecretStore,
  type ContentUrlPolicy,
  contentUrlProblem,
} from '../content-source.ts';
import { InvalidInputError, NotFoundError, RefusedError } from '../errors.ts';
import { idSchema } from '../ids.ts';
import type { Topic } from '../topic.ts';
import { type AdminRequest, bodyObject, parseInput } from './input.ts';
import { requirePage } from './pages.ts';
import type { AdminCatalog } from './ports.ts';

/** Topics' content sources, as a deployment allows them: where secrets are kept, which URLs. */
export type ContentSources = ContentUrlPolicy & { secrets: ContentSecretStore };

/** Throws a 400 naming `contentUrl` when the topic's source URL is not allowed here. */
export function assertContentUrl(topic: Topic, sources: ContentSources | undefined): void {
  if (topic.contentUrl === undefined) return;
  if (!sources) throw new InvalidInputError('contentUrl: content sources are not set up here');
  const problem = contentUrlProblem(topic.contentUrl, sources);
  if (problem !== undefined) throw new InvalidInputError(problem);
}

/**
 * Gives a topic that first gets a `contentUrl` its secret, returned only here (and by a
 * rotation), never by a read; a topic that has one keeps it, even while it has no URL. Made
 * before the topic is saved: a save that fails leaves a secret nobody saw, which the retry
 * replaces.
 */
export async function contentSecretFor(
  topic: Topic,
  stored: Topic | undefined,
  deps: { contentSources?: ContentSources; clock: Clock; log: Log },
): Promise<string | undefined> {
  if (stored?.contentSecretAt !== undefined) {
    topic.contentSecretAt = stored.contentSecretAt;
    return undefined;
  }
  if (topic.contentUrl === undefined || !deps.contentSources) return undefined;
  const secret = await deps.contentSources.secrets.rotate(topic);
  topic.contentSecretAt = deps.clock.now();
  deps.log.info('content secret made', { pageId: topic.pageId, topicId: topic.topicId });
  return secret;
}

/** Which topic's content secret an operator replaces. */
export interface RotateContentSecretInput {
  pageId: string;
  topicId: string;
}

/** Reads `POST /admin/topics/{topicId}/content-secret` with `{"pageId"}`. */
export function parseRotateContentSecret(request: AdminRequest): RotateContentSecretInput {
  const { topicId } = parseInput(z.object({ topicId: idSchema('topic id') }), request.params);
  const { pageId } = parseInput(
    z.strictObject({ pageId: idSchema('Page id') }),
    bodyObject(request.body),
  );
  return { pageId, topicId };
}

/**
 * Replaces a content source topic's secret and returns the new one, this once: the fan-out
 * signs with it from its next request on.
 */
export async function rotateContentSecret(
  { pageId, topicId }: RotateContentSecretInput,
  deps: { catalog: AdminCatalog; contentSources?: ContentSources; clock: Clock; log: Log },
): Promise<{ pageId: string; topicId: string; contentSecret: string; rotatedAt: string }> {
  await requirePage(deps.catalog, pageId);
  const topic = await deps.catalog.getTopic(pageId, topicId);
  if (!topic) throw new NotFoundError(`topic ${topicId} of Page ${pageId} does not exist`);
  if (topic.contentUrl === undefined || !deps.contentSources) {
    throw new RefusedError(
      `topic ${topicId} of Page ${pageId} has no contentUrl: a content secret signs its requests`,
      'no_content_url',
    );
  }
  const contentSecret = await deps.contentSources.secrets.rotate({ pageId, topicId });
  deps.log.info('content secret rotated', { pageId, topicId });
  return { pageId, topicId, contentSecret, rotatedAt: new Date(deps.clock.now()).toISOString() };
}
