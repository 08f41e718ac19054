import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { dynamoBroadcasts, dynamoTopicZoneReader } from '#lib/aws/dynamo-broadcasts.ts';
import { keys } from '#lib/aws/keys.ts';
import type { Broadcast, BroadcastStore } from '#lib/domain/broadcasts/broadcast.ts';
import { createTestTable } from '../support/table.ts';

/** The broadcasts adapter's conditions on DynamoDB Local: what races between cancel and start decide. */
let db: Awaited<ReturnType<typeof createTestTable>>;
let store: BroadcastStore;
let sequence = 0;

function aBroadcast(overrides: Partial<Broadcast> = {}): Broadcast {
  sequence += 1;
  return {
    pageId: '1001',
    topicId: `deals${sequence}`,
    broadcastId: `20261123T120000-${sequence}`,
    message: { text: 'Flash sale' },
    timing: { date: '2026-11-24', localTime: '12:00' },
    createdAt: 1_000,
    firstAt: 2_000,
    lastAt: 3_000,
    counts: {},
    ...overrides,
  };
}

beforeAll(async () => {
  db = await createTestTable('broadcasts');
  store = dynamoBroadcasts(db.client, db.table);
});

describe('dynamoBroadcasts', () => {
  it('stores a broadcast and reads it back, never overwriting one of the same id', async () => {
    const broadcast = aBroadcast({ timing: { now: true } });
    await store.create(broadcast);

    await expect(store.create({ ...broadcast, message: { text: 'other' } })).rejects.toThrow();
    expect(await store.get(broadcast)).toEqual(broadcast);
  });

  it('cancels a broadcast until a run starts it, then refuses naming when it started', async () => {
    const early = aBroadcast();
    const late = aBroadcast({ topicId: early.topicId, broadcastId: `${early.broadcastId}b` });
    await store.create(early);
    await store.create(late);

    const cancelled = await store.cancel(early, 5_000);
    const started = await store.markStarted(late, 6_000);
    const refused = await store.cancel(late, 7_000);

    expect(cancelled).toMatchObject({ kind: 'cancelled', broadcast: { cancelledAt: 5_000 } });
    expect(await store.markStarted(early, 6_000)).toBeUndefined();
    expect(started?.startedAt).toBe(6_000);
    expect(refused).toEqual({ kind: 'started', startedAt: 6_000 });
    expect(await store.cancel(early, 8_000)).toEqual({
      kind: 'already-cancelled',
      cancelledAt: 5_000,
    });
    expect(await store.cancel({ ...early, broadcastId: 'missing' }, 8_000)).toEqual({
      kind: 'missing',
    });
  });

  it('keeps the first start of a broadcast, and marks it done only once started', async () => {
    const broadcast = aBroadcast();
    await store.create(broadcast);

    await store.markDone(broadcast, 9_000);
    const unstarted = await store.get(broadcast);
    await store.markStarted(broadcast, 6_000);
    const again = await store.markStarted(broadcast, 7_000);
    await store.markDone(broadcast, 9_000);

    expect(unstarted?.doneAt).toBeUndefined();
    expect(again?.startedAt).toBe(6_000);
    expect(await store.listOpen(broadcast)).toEqual([]);
    expect((await store.get(broadcast))?.doneAt).toBe(9_000);
  });

  it('adds counters beside the broadcast and lists each with its own', async () => {
    const first = aBroadcast();
    const second = aBroadcast({ topicId: first.topicId, broadcastId: `${first.broadcastId}b` });
    await store.create(first);
    await store.create(second);

    await store.count(first, { sent: 2, skipped_cooldown: 1 });
    await store.count(first, { sent: 1 });
    await store.count(second, { skipped_person_budget: 3 });

    const listed = await store.list(first);
    expect(listed.map((item) => [item.broadcastId, item.counts])).toEqual([
      [first.broadcastId, { sent: 3, skipped_cooldown: 1 }],
      [second.broadcastId, { skipped_person_budget: 3 }],
    ]);
    expect((await store.listOpen(first)).map((item) => item.broadcastId)).toEqual([
      first.broadcastId,
      second.broadcastId,
    ]);
  });

  it("reads a topic's zones, any cadence, once each", async () => {
    await db.client.send(
      new PutCommand({
        TableName: db.table,
        Item: {
          ...keys.topicZones('1001', 'zoned'),
          zones: new Set(['DAILY#Europe/Paris', 'WEEKLY#Europe/Paris', 'DAILY#Asia/Kolkata']),
        },
      }),
    );

    const zones = dynamoTopicZoneReader(db.client, db.table);

    expect(await zones('1001', 'zoned')).toEqual(['Asia/Kolkata', 'Europe/Paris']);
    expect(await zones('1001', 'none')).toEqual([]);
  });
});
