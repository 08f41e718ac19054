import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { DuePlacement } from '../domain/due-placement.ts';
import type { PagePlan } from '../domain/fanout/run-fanout.ts';
import { deliveryRouteSchema, type Page } from '../domain/page.ts';
import type { Catalog } from '../domain/ports.ts';
import { cadenceSchema, type Topic } from '../domain/topic.ts';
import { keys, parseTopicZoneEntry } from './keys.ts';

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
});

const zonesItem = z.object({ topicId: z.string(), zones: z.set(z.string()) });

/** Pages and topics in the table. */
export function dynamoCatalog(client: DynamoDBDocumentClient, table: string) {
  const get = async (key: Record<string, string>) =>
    (await client.send(new GetCommand({ TableName: table, Key: key }))).Item;

  return {
    async getPage(pageId) {
      const item = await get(keys.page(pageId));
      return item ? pageItem.parse(item) : undefined;
    },

    async getTopic(pageId, topicId) {
      const item = await get(keys.topic(pageId, topicId));
      return item ? topicItem.parse(item) : undefined;
    },

    /** Reads a Page's items (config, topics, topic zones) from one Query into a plan. */
    fromPageItems(pageId: string, items: readonly Record<string, unknown>[]): PagePlan | undefined {
      const config = items.find((item) => item.sk === keys.page(pageId).sk);
      if (!config) return undefined;
      const topics: Topic[] = [];
      const zones = new Map<string, DuePlacement[]>();
      for (const item of items) {
        const sk = String(item.sk);
        if (sk.startsWith('TOPIC#')) topics.push(topicItem.parse(item));
        if (sk.startsWith('ZONES#')) {
          const { topicId, zones: entries } = zonesItem.parse(item);
          const placements = [...entries].sort().map(parseTopicZoneEntry);
          zones.set(
            topicId,
            placements.filter((placement) => placement !== undefined),
          );
        }
      }
      return { page: pageItem.parse(config), topics, zones };
    },

    /** Registers or replaces a Page, listing it in the registry. */
    async putPage(page: Page): Promise<void> {
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
    async putTopic(topic: Topic): Promise<void> {
      await client.send(
        new PutCommand({
          TableName: table,
          Item: { ...keys.topic(topic.pageId, topic.topicId), ...topic },
        }),
      );
    },
  } satisfies Catalog & Record<string, unknown>;
}
