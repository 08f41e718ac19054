import * as z from 'zod';
import { InvalidInputError, NotFoundError } from '../errors.ts';
import { idSchema } from '../ids.ts';
import {
  DEFAULT_RATE_PER_SECOND,
  deliveryRouteSchema,
  MAX_RATE_PER_SECOND,
  MIN_RATE_PER_SECOND,
  type Page,
} from '../page.ts';
import { quietHoursSchema } from '../safety/quiet-hours.ts';
import { topicSilencedBy } from '../safety/quiet-hours-check.ts';
import { isValidZone } from '../slots.ts';
import { type AdminRequest, bodyObject, parseInput } from './input.ts';
import type { AdminCatalog, AdminDeps } from './ports.ts';
import { routeChangeProblem } from './route-change.ts';

const pageBodySchema = z.strictObject({
  accessToken: z.string().min(1, 'must not be empty').optional(),
  deliveryRoute: deliveryRouteSchema.optional(),
  // Graph addresses ad accounts as `act_<id>`; the bare id is stored.
  adAccountId: z
    .string()
    .transform((value) => value.replace(/^act_/, ''))
    .pipe(z.string().regex(/^\d+$/, 'must be the numeric ad account id (act_ prefix optional)'))
    .optional(),
  campaignId: z.string().regex(/^\d+$/, 'must be the numeric campaign id').optional(),
  ratePerSecond: z
    .number()
    .int('must be a whole number')
    .min(MIN_RATE_PER_SECOND, `must be at least ${MIN_RATE_PER_SECOND}`)
    .max(
      MAX_RATE_PER_SECOND,
      `must be at most ${MAX_RATE_PER_SECOND} (Meta's ceiling of ${MAX_RATE_PER_SECOND} messages/s per Page)`,
    )
    .optional(),
  timezone: z
    .string()
    .refine(isValidZone, 'must be an IANA time zone such as Europe/Paris')
    .optional(),
  status: z.enum(['active', 'paused']).optional(),
  /** A topic of this Page; `null` removes it. */
  defaultTopicId: idSchema('default topic id').nullable().optional(),
  /** When nothing reaches the Page's subscribers, in their zones; `null`: back to the default. */
  quietHours: quietHoursSchema.nullable().optional(),
});

/** A Page change an operator asked for. */
export interface PutPageInput extends z.infer<typeof pageBodySchema> {
  pageId: string;
}

/** Reads `PUT /admin/pages/{pageId}`. */
export function parsePutPage(request: AdminRequest): PutPageInput {
  const { pageId } = parseInput(z.object({ pageId: idSchema('Page id') }), request.params);
  return { pageId, ...parseInput(pageBodySchema, bodyObject(request.body)) };
}

/** A Page as the admin API shows it: everything but its access token. */
export type PageView = Omit<Page, 'accessToken'> & { hasAccessToken: boolean };

/** The view of a Page, never its token. */
export function pageView(page: Page): PageView {
  const { accessToken, ...rest } = page;
  return { ...rest, hasAccessToken: accessToken !== '' };
}

/**
 * Registers a Page or updates it: omitted fields keep their stored value (a new Page needs an
 * access token). The marketing route needs an ad account and a campaign; making a Page active
 * clears why it was paused, and Meta's hold on its MM sends (the operator says it is fixed).
 */
export async function putPage(
  input: PutPageInput,
  deps: Pick<AdminDeps, 'catalog' | 'editions' | 'clock'>,
): Promise<{ created: boolean; page: PageView }> {
  const stored = await deps.catalog.getPage(input.pageId);
  const accessToken = input.accessToken ?? stored?.accessToken;
  if (accessToken === undefined) {
    throw new InvalidInputError('accessToken: required to register a new Page');
  }
  const page: Page = {
    pageId: input.pageId,
    accessToken,
    deliveryRoute: input.deliveryRoute ?? stored?.deliveryRoute ?? 'send_api',
    ratePerSecond: input.ratePerSecond ?? stored?.ratePerSecond ?? DEFAULT_RATE_PER_SECOND,
    timezone: input.timezone ?? stored?.timezone ?? 'UTC',
    status: input.status ?? stored?.status ?? 'active',
  };
  const adAccountId = input.adAccountId ?? stored?.adAccountId;
  const campaignId = input.campaignId ?? stored?.campaignId;
  if (adAccountId !== undefined) page.adAccountId = adAccountId;
  if (campaignId !== undefined) page.campaignId = campaignId;
  if (page.deliveryRoute === 'marketing_messages') {
    for (const [field, value] of [
      ['adAccountId', adAccountId],
      ['campaignId', campaignId],
    ] as const) {
      if (value === undefined) {
        throw new InvalidInputError(`${field}: required for the marketing_messages route`);
      }
    }
  }
  if (stored !== undefined && stored.deliveryRoute !== page.deliveryRoute) {
    const problem = await routeChangeProblem(page.pageId, page.deliveryRoute, deps);
    if (problem) {
      throw new InvalidInputError(
        `deliveryRoute: ${problem} (Meta would refuse it on ${page.deliveryRoute}: change it first)`,
      );
    }
  }
  const defaultTopicId =
    input.defaultTopicId === null ? undefined : (input.defaultTopicId ?? stored?.defaultTopicId);
  if (defaultTopicId !== undefined) {
    // Checked on every write, so a stored default always names a topic of the Page.
    if (!(await deps.catalog.getTopic(input.pageId, defaultTopicId))) {
      throw new InvalidInputError(
        `defaultTopicId: Page ${input.pageId} has no topic '${defaultTopicId}' (create the topic first)`,
      );
    }
    page.defaultTopicId = defaultTopicId;
  }
  if (input.status !== 'active' && stored?.heldUntil !== undefined) {
    page.heldUntil = stored.heldUntil;
    if (stored.heldReason !== undefined) page.heldReason = stored.heldReason;
  }
  // Meta's newest policy event stays on record: an older one arriving later must not win.
  if (stored?.policy !== undefined) page.policy = stored.policy;
  const quietHours =
    input.quietHours === null ? undefined : (input.quietHours ?? stored?.quietHours);
  if (quietHours !== undefined) page.quietHours = quietHours;
  if (input.quietHours !== undefined) {
    const silenced = topicSilencedBy(page, await deps.catalog.listTopics(input.pageId));
    if (silenced) {
      throw new InvalidInputError(
        `quietHours: topic ${silenced.topicId} sends at ${silenced.sendTime}, inside these quiet hours; move it or give it quietHours of its own first`,
      );
    }
  }
  if (page.status === 'paused') {
    page.pausedReason =
      stored?.status === 'paused' && stored.pausedReason !== undefined
        ? stored.pausedReason
        : 'paused by an operator';
  }
  await deps.catalog.putPage(page);
  return { created: stored === undefined, page: pageView(page) };
}

/** Every registered Page, without tokens. */
export async function listPages(deps: { catalog: AdminCatalog }): Promise<{ items: PageView[] }> {
  const pages = await deps.catalog.listPages();
  return {
    items: pages.sort((a, b) => (a.pageId < b.pageId ? -1 : 1)).map(pageView),
  };
}

/** The Page, or a NotFoundError naming it. */
export async function requirePage(catalog: AdminCatalog, pageId: string): Promise<Page> {
  const page = await catalog.getPage(pageId);
  if (!page) throw new NotFoundError(`Page ${pageId} is not registered`);
  return page;
}
