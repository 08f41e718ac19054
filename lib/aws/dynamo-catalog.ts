import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { mapWithConcurrency } from '../concurrency.ts';
import type { AdminCatalog } from '../domain/admin/ports.ts';
import type { DuePlacement } from '../domain/due-placement.ts';
import { whenNoEditionSchema } from '../domain/editions/edition.ts';
import type { FanoutDeps, PagePlan } from '../domain/fanout/run-fanout.ts';
import { deliveryRouteSchema, type Page } from '../domain/page.ts';
import { cadenceSchema, type Topic } from '../domain/topic.ts';
import { queryPartition } from './dynamo-query.ts';
import { keys, parseTopicZoneEntry, topicIdOf, zonesTopicIdOf } from './keys.ts';

const pageItem = z.object({
  pageId: z.string(),
  accessToken: z.string(),
  deliveryRoute: deliveryRouteSchema,
  adAccountId: z.string().optional(),
  campaignId: z.string().optional(),
  ratePerSecond: z.number(),
  timezone: z.string(),
  status: z.enum(['active', 'paused']),
  pausedReason: z.string().optional(),
  heldUntil: z.number().optional(),
  heldReason: z.string().optional(),
  defaultTopicId: z.string().optional(),
  policy: z
    .object({
      action: z.enum(['warning', 'block', 'unblock']),
      reason: z.string().optional(),
      at: z.number(),
    })
    .optional(),
  quietHours: z.object({ start: z.string(), end: z.string() }).optional(),
});

/** A topic's stored pause (`Topic.paused`): the stop-spike breaker's adapter reads it too. */
export const pauseItem = z.object({
  at: z.number(),
  reason: z.string(),
  sends: z.number(),
  stops: z.number(),
  ratePercent: z.number(),
  thresholdPercent: z.number(),
});

const topicItem = z.object({
  pageId: z.string(),
  topicId: z.string(),
  title: z.string(),
  cadence: cadenceSchema,
  sendTime: z.string(),
  weekday: z.number().optional(),
  dayOfMonth: z.number().optional(),
  message: z.record(z.string(), z.unknown()),
  priority: z.number().optional(),
  createdAt: z.number().optional(),
  whenNoEdition: whenNoEditionSchema.optional(),
  stopThreshold: z.number().optional(),
  paused: pauseItem.optional(),
  breakerSince: z.object({ at: z.number(), sends: z.number(), stops: z.number() }).optional(),
  quietHours: z.object({ start: z.string(), end: z.string() }).optional(),
  contentUrl: z.string().optional(),
  contentSecretAt: z.number().optional(),
});

const zonesItem = z.object({ topicId: z.string(), zones: z.set(z.string()) });

/**
 * Pages, their topics and topic zones: the items under `PAGE#<pageId>`, and the registry that
 * lists the Pages. Every flow reads them; only the admin API writes them.
 */
export function dynamoCatalog(
  client: DynamoDBDocumentClient,
  table: string,
): AdminCatalog & FanoutDeps['catalog'] {
  const get = async (key: Record<string, string>) =>
    (await client.send(new GetCommand({ TableName: table, Key: key }))).Item;
  const registeredPageIds = async () =>
    (await queryPartition(client, table, keys.pageRegistry('').pk)).map((item) =>
      z.string().parse(item.pageId),
    );
  /** The Page's partition (config, topics, topic zones) in one Query, as a plan. */
  const readPlan = async (pageId: string) =>
    planOf(pageId, await queryPartition(client, table, keys.page(pageId).pk));

  const catalog: AdminCatalog & FanoutDeps['catalog'] = {
    async getPage(pageId) {
      const item = await get(keys.page(pageId));
      return item ? pageItem.parse(item) : undefined;
    },

    async getTopic(pageId, topicId) {
      const item = await get(keys.topic(pageId, topicId));
      return item ? topicItem.parse(item) : undefined;
    },

    async listPages() {
      const pages = await mapWithConcurrency(await registeredPageIds(), 8, (pageId) =>
        catalog.getPage(pageId),
      );
      return pages.filter((page): page is Page => page !== undefined);
    },

    async listTopics(pageId) {
      return (await readPlan(pageId))?.topics ?? [];
    },

    /** Every registered Page with its topics and topic zones: one Query per Page. */
    async listPlans() {
      const plans = await mapWithConcurrency(await registeredPageIds(), 8, (pageId) =>
        readPlan(pageId),
      );
      return plans.filter((plan): plan is PagePlan => plan !== undefined);
    },

    /** Registers or replaces a Page, listing it in the registry. */
    async putPage(page) {
      await client.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: table, Item: { ...keys.page(page.pageId), ...page } } },
            {
              Put: {
                TableName: table,
                Item: { ...keys.pageRegistry(page.pageId), pageId: page.pageId },
              },
            },
          ],
        }),
      );
    },

    /** Creates or replaces a topic. */
    async putTopic(topic) {
      await client.send(
        new PutCommand({
          TableName: table,
          Item: { ...keys.topic(topic.pageId, topic.topicId), ...topic },
        }),
      );
    },
  };
  return catalog;
}

/** Reads a Page's items (config, topics, topic zones) into a plan; none without its config. */
function planOf(pageId: string, items: readonly Record<string, unknown>[]): PagePlan | undefined {
  const config = items.find((item) => item.sk === keys.page(pageId).sk);
  if (!config) return undefined;
  const topics: Topic[] = [];
  const zones = new Map<string, DuePlacement[]>();
  for (const item of items) {
    const sk = String(item.sk);
    if (topicIdOf(sk) !== undefined) topics.push(topicItem.parse(item));
    if (zonesTopicIdOf(sk) !== undefined) {
      const { topicId, zones: entries } = zonesItem.parse(item);
      const placements = [...entries].sort().map(parseTopicZoneEntry);
      zones.set(
        topicId,
        placements.filter((placement) => placement !== undefined),
      );
    }
  }
  return { page: pageItem.parse(config), topics, zones };
}
