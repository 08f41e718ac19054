import * as z from 'zod';
import type { Clock } from '../../clock.ts';
import type { Log } from '../../log.ts';
import { NotFoundError } from '../errors.ts';
import { idSchema } from '../ids.ts';
import { hourOf } from '../safety/stop-spike.ts';
import type { TopicSafetyStore } from '../safety/watch-topics.ts';
import type { TopicPause } from '../topic.ts';
import { type AdminRequest, bodyObject, parseInput } from './input.ts';
import { requirePage } from './pages.ts';
import type { AdminCatalog } from './ports.ts';

/** Which topic an operator resumes. */
export interface ResumeTopicInput {
  pageId: string;
  topicId: string;
}

/** Reads `POST /admin/topics/{topicId}/resume` with `{"pageId"}`. */
export function parseResumeTopic(request: AdminRequest): ResumeTopicInput {
  const { topicId } = parseInput(z.object({ topicId: idSchema('topic id') }), request.params);
  const { pageId } = parseInput(
    z.strictObject({ pageId: idSchema('Page id') }),
    bodyObject(request.body),
  );
  return { pageId, topicId };
}

export interface ResumeTopicDeps {
  catalog: AdminCatalog;
  safety: TopicSafetyStore;
  clock: Clock;
  log: Log;
}

/**
 * Lifts the stop-spike breaker's pause of a topic: its jobs are queued and sent again, and its
 * 24 h start now, so the stops that tripped it do not trip it again at once.
 */
export async function resumeTopic(
  { pageId, topicId }: ResumeTopicInput,
  deps: ResumeTopicDeps,
): Promise<{ pageId: string; topicId: string; resumed: boolean; pause?: TopicPause }> {
  await requirePage(deps.catalog, pageId);
  if (!(await deps.catalog.getTopic(pageId, topicId))) {
    throw new NotFoundError(`topic ${topicId} of Page ${pageId} does not exist`);
  }
  const now = deps.clock.now();
  const hour = hourOf(now);
  const [bucket] = await deps.safety.readHours(pageId, topicId, hour, hour);
  const since = { at: now, sends: bucket?.sends ?? 0, stops: bucket?.stops ?? 0 };
  const pause = await deps.safety.resumeTopic(pageId, topicId, since);
  deps.log.info('topic resumed', { pageId, topicId, wasPaused: pause !== undefined });
  return { pageId, topicId, resumed: pause !== undefined, ...(pause && { pause }) };
}
