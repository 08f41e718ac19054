import { describe, expect, it } from 'vitest';
import { fixedClock } from '#lib/clock.ts';
import { hourOf } from '#lib/domain/safety/stop-spike.ts';
import { activityOfAnswers, watchStops, watchTopics } from '#lib/domain/safety/watch-topics.ts';
import { TOPIC_PAUSED_LOG_MESSAGE } from '#lib/domain/stats.ts';
import type { Topic } from '#lib/domain/topic.ts';
import { captureLog } from '../../../support/capture-log.ts';
import { memoryCatalog, memoryTable, memoryTopicSafety } from '../../../support/memory-ports.ts';

const HOUR_MS = 3_600_000;
const NOW = Date.parse('2026-12-01T15:20:00Z');

const aTopic = (overrides: Partial<Topic> = {}): Topic => ({
  pageId: '1001',
  topicId: 'deals',
  title: 'Deals',
  cadence: 'DAILY',
  sendTime: '10:00',
  message: { text: 'hi' },
  ...overrides,
});

function world(topic: Topic = aTopic()) {
  const table = memoryTable({ topics: [topic] });
  const safety = memoryTopicSafety(table);
  const clock = fixedClock(NOW);
  const log = captureLog();
  const catalog = memoryCatalog(table);
  const deps = { safety, topicOf: catalog.getTopic, clock, log };
  const stored = () => table.topics.get('1001#deals');
  const alarms = () => log.entries.filter((entry) => entry.message === TOPIC_PAUSED_LOG_MESSAGE);
  return { table, safety, clock, log, catalog, deps, stored, alarms };
}

const activity = (sends: number, stops: number) => [
  { pageId: '1001', topicId: 'deals', sends, stops },
];

describe('watchTopics: the stop-spike breaker per topic', () => {
  it('pauses a topic whose stops over 24 h go above 3 %, with the numbers, and raises one alarm', async () => {
    const w = world();
    await w.safety.add(hourOf(NOW - 5 * HOUR_MS), activity(190, 4));

    await watchTopics(activity(10, 3), w.deps);

    expect(w.stored()?.paused).toEqual({
      at: NOW,
      reason: "7 stops and blocks over 200 sends in 24 h (3.5 %), above the topic's 3 %",
      sends: 200,
      stops: 7,
      ratePercent: 3.5,
      thresholdPercent: 3,
    });
    expect(w.alarms()).toEqual([
      expect.objectContaining({ level: 'error', pageId: '1001', topicId: 'deals', stops: 7 }),
    ]);
  });

  it('leaves a topic exactly at its threshold running', async () => {
    const w = world();

    await watchTopics(activity(200, 6), w.deps);

    expect(w.stored()?.paused).toBeUndefined();
    expect(w.alarms()).toEqual([]);
  });

  it('waits for 200 sends before judging, then counts the stops seen before', async () => {
    const w = world();

    await watchTopics(activity(150, 20), w.deps);
    expect(w.stored()?.paused).toBeUndefined();

    await watchTopics(activity(50, 0), w.deps);
    expect(w.stored()?.paused).toMatchObject({ sends: 200, stops: 20 });
  });

  it('forgets counts older than 24 h', async () => {
    const w = world();
    await w.safety.add(hourOf(NOW - 24 * HOUR_MS), activity(0, 50));

    await watchTopics(activity(300, 1), w.deps);

    expect(w.stored()?.paused).toBeUndefined();
  });

  it("uses the topic's own threshold", async () => {
    const w = world(aTopic({ stopThreshold: 10 }));

    await watchTopics(activity(200, 20), w.deps);
    expect(w.stored()?.paused).toBeUndefined();

    await watchTopics(activity(0, 1), w.deps);
    expect(w.stored()?.paused).toMatchObject({ stops: 21, thresholdPercent: 10 });
  });

  it('raises the alarm once: a paused topic is left as it is', async () => {
    const w = world();
    await watchTopics(activity(200, 10), w.deps);

    await watchTopics(activity(0, 10), w.deps);

    expect(w.alarms()).toHaveLength(1);
    expect(w.stored()?.paused?.stops).toBe(10);
  });

  it('counts only what came after a resume', async () => {
    const w = world();
    await watchTopics(activity(200, 10), w.deps);
    const bucket = [...w.safety.buckets.values()][0];
    await w.safety.resumeTopic('1001', 'deals', {
      at: NOW,
      sends: bucket?.sends ?? 0,
      stops: bucket?.stops ?? 0,
    });

    await watchTopics(activity(200, 1), w.deps);

    expect(w.stored()?.paused).toBeUndefined();
  });

  it('writes nothing for a batch that sent nothing and saw no stop', async () => {
    const w = world();

    await watchTopics(activity(0, 0), w.deps);

    expect(w.safety.buckets.size).toBe(0);
  });
});

describe('activityOfAnswers: what a batch adds', () => {
  it('counts a stop or block as a send and a stop, per topic', () => {
    expect(
      activityOfAnswers([
        { pageId: '1001', topicId: 'deals', sent: true, stopped: false },
        { pageId: '1001', topicId: 'deals', sent: false, stopped: true },
        { pageId: '1001', topicId: 'news', sent: true, stopped: false },
      ]),
    ).toEqual([
      { pageId: '1001', topicId: 'deals', sends: 2, stops: 1 },
      { pageId: '1001', topicId: 'news', sends: 1, stops: 0 },
    ]);
  });
});

describe('watchStops: the webhook’s stops', () => {
  it('feeds the stops a delivery counted, per topic over its days', async () => {
    const w = world();
    await w.safety.add(hourOf(NOW), activity(300, 8));

    await watchStops(
      [
        { pageId: '1001', topicId: 'deals', day: '2026-11-30', counts: { stops: 1 } },
        { pageId: '1001', topicId: 'deals', day: '2026-12-01', counts: { stops: 1, optins: 4 } },
      ],
      { safety: w.safety, catalog: w.catalog, clock: w.clock, log: w.log },
    );

    expect(w.stored()?.paused).toMatchObject({ sends: 300, stops: 10 });
  });

  it('logs a storage failure instead of failing the delivery', async () => {
    const w = world();
    const failing = {
      ...w.safety,
      add: async () => {
        throw new Error('throttled');
      },
    };

    await watchStops(
      [{ pageId: '1001', topicId: 'deals', day: '2026-12-01', counts: { stops: 1 } }],
      {
        safety: failing,
        catalog: w.catalog,
        clock: w.clock,
        log: w.log,
      },
    );

    expect(w.log.entries).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: 'stops not counted for the stop-spike breaker',
      }),
    );
  });
});
