import { describe, expect, it } from 'vitest';
import type { DueGroup } from '#lib/domain/due-placement.ts';
import { comparePositions, inPageTurns } from '#lib/domain/fanout/page-turns.ts';
import { type PagePlan, planPartitions } from '#lib/domain/fanout/run-fanout.ts';
import type { Page } from '#lib/domain/page.ts';
import { silentLog } from '#lib/log.ts';

const at = (iso: string) => Date.parse(iso);

describe('inPageTurns', () => {
  it('takes one item of each Page in turn, each Page keeping its own order', () => {
    const items = ['a1', 'a2', 'a3', 'a4', 'b1', 'b2', 'c1'];

    expect(inPageTurns(items, (item) => item.slice(0, 1))).toEqual([
      'a1',
      'b1',
      'c1',
      'a2',
      'b2',
      'a3',
      'a4',
    ]);
  });

  it('takes a run of each Page in turn when asked for more than one a turn', () => {
    const items = ['a1', 'a2', 'a3', 'a4', 'b1', 'b2', 'c1'];

    expect(inPageTurns(items, (item) => item.slice(0, 1), 3)).toEqual([
      'a1',
      'a2',
      'a3',
      'b1',
      'b2',
      'c1',
      'a4',
    ]);
  });

  it('keeps every item exactly once', () => {
    const items = Array.from({ length: 95 }, (_, i) => ({
      page: `p${i % 7 === 0 ? 0 : i % 3}`,
      i,
    }));

    const ordered = inPageTurns(items, (item) => item.page, 3);

    expect(ordered.map((item) => item.i).sort((a, b) => a - b)).toEqual(
      items.map((item) => item.i),
    );
  });
});

describe('comparePositions', () => {
  it('orders by turn before id', () => {
    const positions = [
      { turn: 1, partition: 'A#0' },
      { turn: 0, partition: 'B#1' },
      { turn: 0, partition: 'A#1' },
    ];

    expect(positions.sort(comparePositions)).toEqual([
      { turn: 0, partition: 'A#1' },
      { turn: 0, partition: 'B#1' },
      { turn: 1, partition: 'A#0' },
    ]);
  });
});

describe('planPartitions', () => {
  const page = (pageId: string): Page => ({
    pageId,
    accessToken: `${pageId}-token`,
    deliveryRoute: 'send_api',
    ratePerSecond: 40,
    timezone: 'Europe/Paris',
    status: 'active',
  });
  const plan = (pageId: string): PagePlan => ({
    page: page(pageId),
    topics: [
      {
        pageId,
        topicId: 'daily',
        title: 'Daily',
        cadence: 'DAILY',
        sendTime: '09:00',
        message: { text: 'Deals' },
      },
    ],
    zones: new Map([['daily', [{ cadence: 'DAILY', zone: 'Europe/Paris' }]]]),
  });
  const dueIndex = {
    partitionsFor: ({ pageId, topicId, zone }: DueGroup) =>
      [0, 1, 2].map((shard) => `DUE#DAILY#${pageId}#${topicId}#${zone}#${shard}`),
  };

  it("reads every Page's first partition before any Page's second", () => {
    const work = planPartitions(
      [plan('p1'), plan('p2'), plan('p3')],
      'DAILY',
      at('2026-11-23T07:45:00Z'),
      at('2026-11-23T08:15:00Z'),
      { dueIndex, log: silentLog },
    );

    expect(work.map(({ pageId, turn }) => `${pageId}/${turn}`)).toEqual([
      'p1/0',
      'p2/0',
      'p3/0',
      'p1/1',
      'p2/1',
      'p3/1',
      'p1/2',
      'p2/2',
      'p3/2',
    ]);
  });
});
