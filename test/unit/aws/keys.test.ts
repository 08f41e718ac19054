import { describe, expect, it } from 'vitest';
import {
  BROADCAST_COUNTS_PREFIX,
  BROADCAST_PREFIX,
  dayOf,
  duePartitionOf,
  duePartitionsOf,
  keys,
  parseTopicZoneEntry,
  placementOf,
  shardOf,
  subscriptionKeyOf,
  topicIdOf,
  topicZoneEntry,
} from '#lib/aws/keys.ts';
import { DUE_SHARDS } from '#lib/aws/table-definition.ts';

const key = { pageId: '1001', psid: '5001', topicId: 'daily-deals' };

describe('due-index keys', () => {
  it('writes the stored partition ids: DUE#<cadence>#<pageId>#<topicId>#<zone>#<shard>', () => {
    expect(duePartitionOf(key, { cadence: 'DAILY', zone: 'Asia/Kathmandu' })).toBe(
      'DUE#DAILY#1001#daily-deals#Asia/Kathmandu#3',
    );
    expect(keys.duePartition('WEEKLY', '2001', 'daily', 'America/New_York', 15)).toBe(
      'DUE#WEEKLY#2001#daily#America/New_York#15',
    );
  });

  it('keeps every PSID on the shard it was stored under', () => {
    expect(
      ['5001', '10000', 'p000', 'kolkata', '24810931', ''].map((psid) => shardOf(psid, 16)),
    ).toEqual([3, 12, 5, 6, 11, 5]);
  });

  it('spreads PSIDs over every shard', () => {
    const shards = new Set(Array.from({ length: 2000 }, (_, i) => shardOf(String(10_000 + i), 16)));

    expect(shards.size).toBe(16);
  });

  it("lists a group's partitions, one per shard, each a subscription's partition", () => {
    const group = {
      cadence: 'DAILY',
      pageId: '1001',
      topicId: 'daily-deals',
      zone: 'UTC',
    } as const;

    const partitions = duePartitionsOf(group);

    expect(partitions).toHaveLength(DUE_SHARDS);
    expect(partitions[0]).toBe('DUE#DAILY#1001#daily-deals#UTC#0');
    expect(partitions).toContain(duePartitionOf(key, group));
  });

  it('reads back the placement of a stored partition', () => {
    const placement = { cadence: 'MONTHLY', zone: 'America/Argentina/Buenos_Aires' } as const;

    expect(placementOf(key, duePartitionOf(key, placement))).toEqual(placement);
  });

  it('reads a partition of another shard, topic or Page as no placement', () => {
    expect(placementOf(key, 'DUE#DAILY#1001#daily-deals#Asia/Kathmandu#4')).toBeUndefined();
    expect(placementOf(key, 'DUE#DAILY#1001#other#Asia/Kathmandu#3')).toBeUndefined();
    expect(placementOf(key, 'DUE#DAILY#1002#daily-deals#Asia/Kathmandu#3')).toBeUndefined();
    expect(placementOf(key, 'DUE#HOURLY#1001#daily-deals#Asia/Kathmandu#3')).toBeUndefined();
  });
});

describe('topic zone entries', () => {
  it('stores `<cadence>#<zone>` and reads it back', () => {
    const entry = topicZoneEntry({ cadence: 'WEEKLY', zone: 'Europe/Paris' });

    expect(entry).toBe('WEEKLY#Europe/Paris');
    expect(parseTopicZoneEntry(entry)).toEqual({ cadence: 'WEEKLY', zone: 'Europe/Paris' });
  });

  it('reads an entry of no known cadence as none', () => {
    expect(parseTopicZoneEntry('HOURLY#Europe/Paris')).toBeUndefined();
    expect(parseTopicZoneEntry('DAILY')).toBeUndefined();
  });
});

describe('keys read back', () => {
  it("reads a subscription's key from its item's keys, and nothing from another item's", () => {
    const item = keys.subscription(key);

    expect(subscriptionKeyOf('1001', item)).toEqual(key);
    expect(subscriptionKeyOf('1001', keys.contact('1001', '5001'))).toBeUndefined();
    expect(subscriptionKeyOf('100', item)).toBeUndefined();
  });

  it('reads the topic of a topic or subscription sort key, and the day of a stats one', () => {
    expect(topicIdOf(keys.topic('1001', 'daily-deals').sk)).toBe('daily-deals');
    expect(topicIdOf(keys.topicZones('1001', 'daily-deals').sk)).toBeUndefined();
    expect(dayOf(keys.stats('1001', 'daily-deals', '2026-11-23').sk)).toBe('2026-11-23');
  });

  it('sorts the Page index by topic, then person', () => {
    expect(keys.pageIndexSort(key)).toBe('daily-deals#5001');
    expect(keys.pageIndexSort(key).startsWith(keys.pageIndexTopicPrefix('daily-deals'))).toBe(true);
  });
});

describe('edition keys', () => {
  it('stores an edition as EDITION#<pageId>#<topicId> / DATE#<yyyy-mm-dd>, outside the Page partition', () => {
    const item = keys.edition('1001', 'daily-deals', '2026-12-05');

    expect(item).toEqual({ pk: 'EDITION#1001#daily-deals', sk: 'DATE#2026-12-05' });
    expect(item.pk).not.toBe(keys.page('1001').pk);
  });

  it("keeps an edition's counters next to the topic's days, under EDITION#<date>", () => {
    expect(keys.editionStats('1001', 'daily-deals', '2026-12-05')).toEqual({
      pk: keys.stats('1001', 'daily-deals', '2026-12-05').pk,
      sk: 'EDITION#2026-12-05',
    });
  });

  it('sorts a topic’s editions by date, so a range of dates is one key range', () => {
    const sks = ['2026-12-10', '2026-11-30', '2027-01-01'].map(
      (date) => keys.edition('1001', 'daily-deals', date).sk,
    );

    expect([...sks].sort()).toEqual(['DATE#2026-11-30', 'DATE#2026-12-10', 'DATE#2027-01-01']);
  });
});

describe('content secret keys', () => {
  it('stores a topic’s content secret as CONTENTSECRET#<pageId>#<topicId> / SECRET, outside the Page partition', () => {
    const item = keys.contentSecret('1001', 'daily-deals');

    expect(item).toEqual({ pk: 'CONTENTSECRET#1001#daily-deals', sk: 'SECRET' });
    expect(item.pk).not.toBe(keys.page('1001').pk);
  });
});

describe('broadcast keys', () => {
  it('stores a broadcast as BROADCAST#<pageId>#<topicId> / ID#<id>, outside the Page partition', () => {
    const item = keys.broadcast('1001', 'daily-deals', '20261124T120000-a1b2c3d4');

    expect(item).toEqual({
      pk: 'BROADCAST#1001#daily-deals',
      sk: 'ID#20261124T120000-a1b2c3d4',
    });
    expect(item.pk).not.toBe(keys.page('1001').pk);
    expect(item.sk.startsWith(BROADCAST_PREFIX)).toBe(true);
  });

  it("keeps a broadcast's counters next to it, under COUNTS#<id>", () => {
    const counts = keys.broadcastCounts('1001', 'daily-deals', '20261124T120000-a1b2c3d4');

    expect(counts).toEqual({
      pk: 'BROADCAST#1001#daily-deals',
      sk: 'COUNTS#20261124T120000-a1b2c3d4',
    });
    expect(counts.sk.startsWith(BROADCAST_COUNTS_PREFIX)).toBe(true);
    expect(counts.sk.startsWith(BROADCAST_PREFIX)).toBe(false);
  });
});

describe('conversation keys', () => {
  it("stores a person's conversations of a day in their partition, as CONVERSATIONS#<yyyy-mm-dd>", () => {
    expect(keys.conversationDay('1001', '5001', '2026-12-05')).toEqual({
      pk: 'SUB#1001#5001',
      sk: 'CONVERSATIONS#2026-12-05',
    });
    expect(keys.conversationDay('1001', '5001', '2026-12-05').pk).toBe(
      keys.contact('1001', '5001').pk,
    );
  });

  it('is no subscription, whatever the day', () => {
    const item = keys.conversationDay('1001', '5001', '2026-12-05');

    expect(subscriptionKeyOf('1001', item)).toBeUndefined();
  });
});
