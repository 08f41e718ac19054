import * as z from 'zod';
import type { Clock } from '../../clock.ts';
import type { Log } from '../../log.ts';
import { InvalidInputError, NotFoundError, RefusedError } from '../errors.ts';
import { idSchema } from '../ids.ts';
import type { Page } from '../page.ts';
import type { Topic } from '../topic.ts';
import { type AdminGraph, metaCallFailure, OPT_IN_CTA_TEXTS } from './graph.ts';
import { type AdminRequest, bodyObject, parseInput } from './input.ts';
import { requirePage } from './pages.ts';
import type { AdminCatalog, OptInClaims } from './ports.ts';

const DAY_MS = 86_400_000;
/** Opt-in requests are allowed only this long after the person's last message. */
export const OPT_IN_WINDOW_MS = DAY_MS;
/** One opt-in request per title per person in this long. */
export const OPT_IN_REPEAT_MS = 7 * DAY_MS;

const optInBodySchema = z.strictObject({
  psid: idSchema('PSID'),
  /** Needed only when two Pages have a topic with this id. */
  pageId: idSchema('Page id').optional(),
  ctaText: z.enum(OPT_IN_CTA_TEXTS).default('GET_UPDATES'),
  imageUrl: z.url({ protocol: /^https$/, error: 'must be an https URL' }).optional(),
});

export interface OptInRequestInput extends z.infer<typeof optInBodySchema> {
  topicId: string;
}

/** Reads `POST /admin/topics/{topicId}/optin-requests`. */
export function parseOptInRequest(request: AdminRequest): OptInRequestInput {
  const { topicId } = parseInput(z.object({ topicId: idSchema('topic id') }), request.params);
  return { topicId, ...parseInput(optInBodySchema, bodyObject(request.body)) };
}

export interface OptInRequestDeps {
  catalog: AdminCatalog;
  optInClaims: OptInClaims;
  graph: AdminGraph;
  clock: Clock;
  log: Log;
}

/**
 * Sends a topic's opt-in template to a person, within Meta's two rules checked here first:
 * only inside the 24 h window after the person's last message, and once per title per person
 * per 7 days. The request is claimed on the contact record before Meta is called, so two
 * racing requests send once; a refusal from Meta gives the claim back.
 */
export async function requestOptIn(
  input: OptInRequestInput,
  deps: OptInRequestDeps,
): Promise<{ sent: true; pageId: string; psid: string; topicId: string; requestedAt: string }> {
  const { page, topic } = await findTopic(input, deps.catalog);
  const now = deps.clock.now();
  const claim = await deps.optInClaims.claim({
    pageId: page.pageId,
    psid: input.psid,
    title: topic.title,
    at: now,
    windowStart: now - OPT_IN_WINDOW_MS,
    repeatBefore: now - OPT_IN_REPEAT_MS,
  });
  if (!claim.claimed && claim.reason === 'outside_window') {
    const last =
      claim.lastInboundAt === undefined
        ? 'has never written to the Page'
        : `last wrote at ${new Date(claim.lastInboundAt).toISOString()}`;
    throw new RefusedError(
      `the person ${last}: opt-in requests are allowed only within 24 hours of their last message; retry when they write again`,
      'outside_window',
    );
  }
  if (!claim.claimed) {
    const retryAt = claim.requestedAt + OPT_IN_REPEAT_MS;
    throw new RefusedError(
      `an opt-in request for ${JSON.stringify(topic.title)} went to this person at ${new Date(claim.requestedAt).toISOString()}; Meta allows one per title per person per 7 days: retry at ${new Date(retryAt).toISOString()}`,
      'too_soon',
      retryAt,
    );
  }
  const result = await deps.graph.requestOptIn({
    pageId: page.pageId,
    accessToken: page.accessToken,
    psid: input.psid,
    template: {
      title: topic.title,
      payload: topic.topicId,
      ctaText: input.ctaText,
      timezone: page.timezone,
      ...(input.imageUrl !== undefined && { imageUrl: input.imageUrl }),
    },
  });
  if (result.kind === 'ok') {
    deps.log.info('opt-in request sent', { pageId: page.pageId, topicId: topic.topicId });
    return {
      sent: true,
      pageId: page.pageId,
      psid: input.psid,
      topicId: topic.topicId,
      requestedAt: new Date(now).toISOString(),
    };
  }
  const failure = metaCallFailure('opt-in request', result, now);
  // Meta may have the request when it never answered, and confirms the 7-day limit itself with
  // 613/1893016: in both cases the claim stands. Any other refusal gives it back.
  const keep =
    (result.kind === 'unanswered' && result.requestLeft) ||
    (failure instanceof RefusedError && failure.code === 'too_soon');
  if (!keep) {
    await deps.optInClaims.release({
      pageId: page.pageId,
      psid: input.psid,
      title: topic.title,
      claimedAt: now,
      ...(claim.previous !== undefined && { previous: claim.previous }),
    });
  }
  deps.log.warn('opt-in request refused', {
    pageId: page.pageId,
    topicId: topic.topicId,
    ...(result.kind === 'refused'
      ? {
          status: result.status,
          code: result.error?.code,
          subcode: result.error?.subcode,
          fbtraceId: result.error?.fbtraceId,
        }
      : { cause: result.cause }),
    claimKept: keep,
  });
  throw failure;
}

/** The topic and its Page: by Page id when given, else the one Page that has the topic. */
async function findTopic(
  input: OptInRequestInput,
  catalog: AdminCatalog,
): Promise<{ page: Page; topic: Topic }> {
  if (input.pageId !== undefined) {
    const page = await requirePage(catalog, input.pageId);
    const topic = await catalog.getTopic(page.pageId, input.topicId);
    if (!topic) throw new NotFoundError(`Page ${page.pageId} has no topic ${input.topicId}`);
    return { page, topic };
  }
  const pages = await catalog.listPages();
  const found = (
    await Promise.all(
      pages.map(async (page) => ({
        page,
        topic: await catalog.getTopic(page.pageId, input.topicId),
      })),
    )
  ).filter((entry): entry is { page: Page; topic: Topic } => entry.topic !== undefined);
  const [only, ...others] = found;
  if (!only) throw new NotFoundError(`no Page has a topic ${input.topicId}`);
  if (others.length > 0) {
    throw new InvalidInputError(
      `pageId: required, topic ${input.topicId} exists on Pages ${found.map((entry) => entry.page.pageId).join(', ')}`,
    );
  }
  return only;
}
