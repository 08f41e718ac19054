import { describe, expect, it } from 'vitest';
import type { Broadcast } from '#lib/domain/broadcasts/broadcast.ts';
import { planBroadcasts } from '#lib/domain/fanout/broadcast-partitions.ts';
import type { PagePlan } from '#lib/domain/fanout/run-fanout.ts';
import { captureLog } from '../../../support/capture-log.ts';
import { memoryBroadcasts } from '../../../support/memory-broadcasts.ts';

const at = (iso: string) => Date.parse(iso);
const QUARTER = 15 * 60_000;

const plan: PagePlan = {
  page: {
    pageId: '1',
    accessToken: 't',
    deliveryRoute: 'marketing_messages',
    ratePerSecond: 20,
    timezone: 'Europe/Paris',
    status: 'active',
  },
  topics: [
    {
      pageId: '1',
      topicId: 'deals',
      title: 'Deals',
      cadence: 'DAILY',
      sendTime: '09:00',
      message: { text: 'x' },
    },
  ],
  zones: new Map([
    [
      'deals',
      [
        { cadence: 'DAILY', zone: 'Pacific/Kiritimati' },
        { cadence: 'DAILY', zone: 'Europe/Paris' },
        { cadence: 'WEEKLY', zone: 'Europe/Paris' },
      ],
    ],
  ]),
};

function aBroadcast(overrides: Partial<Broadcast> = {}): Broadcast {
  return {
    pageId: '1',
    topicId: 'deals',
    broadcastId: 'b1',
    message: { text: 'Flash' },
    timing: { date: '2026-11-24', localTime: '12:00' },
    createdAt: at('2026-11-20T10:00:00Z'),
    firstAt: at('2026-11-23T22:00:00Z'),
    lastAt: at('2026-11-24T11:00:00Z'),
    counts: {},
    ...overrides,
  };
}

function deps(broadcasts: ReturnType<typeof memoryBroadcasts>) {
  return {
    broadcasts,
    dueIndex: {
      partitionsFor: (group: { cadence: string; zone: string }) => [
        `${group.cadence}#${group.zone}#0`,
      ],
    },
    log: captureLog(),
  };
}

const run = (to: number, from = to - QUARTER) => ({ cadence: 'DAILY' as const, from, to });

describe("a fan-out run's broadcasts", () => {
  it("reads the partitions of the zones whose instant falls in the run's window, every cadence", async () => {
    // Kiritimati's run (22:00 UTC) started it and queued Kiritimati.
    const broadcasts = memoryBroadcasts([aBroadcast({ startedAt: at('2026-11-23T22:00:00Z') })]);

    const parisNoon = at('2026-11-24T11:00:00Z');
    const work = await planBroadcasts([plan], run(parisNoon), deps(broadcasts));

    expect(
      work.map((entry) => [entry.partition, entry.slot, entry.threshold, entry.broadcastId]),
    ).toEqual([
      ['DAILY#Europe/Paris#0', parisNoon, parisNoon, 'b1'],
      ['WEEKLY#Europe/Paris#0', parisNoon, parisNoon, 'b1'],
    ]);
  });

  it('marks it started by the first run that queues a zone, and done by a run after the last', async () => {
    const broadcasts = memoryBroadcasts([aBroadcast()]);
    const kiritimati = at('2026-11-23T22:00:00Z');

    await planBroadcasts([plan], run(kiritimati), deps(broadcasts));
    const between = await planBroadcasts([plan], run(kiritimati + QUARTER), deps(broadcasts));
    await planBroadcasts([plan], run(at('2026-11-24T11:00:00Z')), deps(broadcasts));
    await planBroadcasts([plan], run(at('2026-11-24T11:15:00Z')), deps(broadcasts));

    expect(between).toEqual([]);
    expect(broadcasts.items.get('1#deals#b1')).toMatchObject({
      startedAt: kiritimati,
      doneAt: at('2026-11-24T11:15:00Z'),
    });
  });

  it('queues a zone again in a rerun of the same window (the claim keeps it to one send)', async () => {
    const broadcasts = memoryBroadcasts([aBroadcast()]);
    const kiritimati = at('2026-11-23T22:00:00Z');

    const first = await planBroadcasts([plan], run(kiritimati), deps(broadcasts));
    const again = await planBroadcasts([plan], run(kiritimati), deps(broadcasts));

    expect(again).toEqual(first);
  });

  it('queues nothing of a cancelled broadcast, nor of one on a paused topic or Page', async () => {
    const kiritimati = at('2026-11-23T22:00:00Z');
    const cancelled = memoryBroadcasts([aBroadcast({ cancelledAt: kiritimati - 1 })]);
    const open = memoryBroadcasts([aBroadcast()]);
    const pausedTopic = {
      ...plan,
      topics: plan.topics.map((topic) => ({
        ...topic,
        paused: { at: 0, reason: 'stops', sends: 1, stops: 1, ratePercent: 1, thresholdPercent: 1 },
      })),
    };
    const pausedPage = { ...plan, page: { ...plan.page, status: 'paused' as const } };

    expect(await planBroadcasts([plan], run(kiritimati), deps(cancelled))).toEqual([]);
    expect(await planBroadcasts([pausedTopic, pausedPage], run(kiritimati), deps(open))).toEqual(
      [],
    );
    expect(open.writes).toEqual([]);
  });

  it('queues every zone of a broadcast sent at once in the run that starts it', async () => {
    const created = at('2026-11-24T11:05:00Z');
    const broadcasts = memoryBroadcasts([
      aBroadcast({ timing: { now: true }, createdAt: created, firstAt: created, lastAt: created }),
    ]);

    // The run that read the list before it existed already completed its window.
    const work = await planBroadcasts(
      [plan],
      run(at('2026-11-24T11:15:00Z'), created + 1),
      deps(broadcasts),
    );

    expect(new Set(work.map((entry) => entry.slot))).toEqual(new Set([created]));
    expect(work).toHaveLength(3);
  });

  it("leaves other cadences' runs alone", async () => {
    const broadcasts = memoryBroadcasts([aBroadcast()]);

    const work = await planBroadcasts(
      [plan],
      { cadence: 'WEEKLY', from: at('2026-11-23T21:50:00Z'), to: at('2026-11-23T22:00:00Z') },
      deps(broadcasts),
    );

    expect(work).toEqual([]);
  });
});
