import { createHash } from 'node:crypto';
import { duePartitionId, type SubscriptionKey } from '../domain/subscription.ts';
import type { Cadence } from '../domain/topic.ts';

/** The table's key layout (ARCHITECTURE.md, "Data"), in one place. */
export const keys = {
  page: (pageId: string) => ({ pk: `PAGE#${pageId}`, sk: 'CONFIG' }),
  /** One item per registered Page under a fixed partition, so Pages can be listed without a scan. */
  pageRegistry: (pageId: string) => ({ pk: 'PAGES', sk: `PAGE#${pageId}` }),
  topic: (pageId: string, topicId: string) => ({ pk: `PAGE#${pageId}`, sk: `TOPIC#${topicId}` }),
  topicZones: (pageId: string, topicId: string) => ({
    pk: `PAGE#${pageId}`,
    sk: `ZONES#${topicId}`,
  }),
  subscription: ({ pageId, psid, topicId }: SubscriptionKey) => ({
    pk: `SUB#${pageId}#${psid}`,
    sk: `TOPIC#${topicId}`,
  }),
  contact: (pageId: string, psid: string) => ({ pk: `SUB#${pageId}#${psid}`, sk: 'CONTACT' }),
  rateBucket: (pageId: string) => ({ pk: `RATE#${pageId}`, sk: 'BUCKET' }),
  event: (hash: string) => ({ pk: `EVT#${hash}`, sk: 'RAW' }),
  stats: (pageId: string, topicId: string, day: string) => ({
    pk: `STATS#${pageId}#${topicId}`,
    sk: `DAY#${day}`,
  }),
  /** Tokens are stored hashed in this key so the key itself reveals nothing. */
  token: (token: string) => ({ pk: `TOKEN#${sha256(token)}`, sk: 'SUB' }),
  /** The last completed fan-out run of a cadence. */
  fanoutRun: (cadence: Cadence) => ({ pk: `RUN#${cadence}`, sk: 'STATE' }),
  duePartition: duePartitionId,
};

/** Hex sha256 of a string or bytes. */
export function sha256(input: string | Uint8Array): string {
  return createHash('sha256').update(input).digest('hex');
}
