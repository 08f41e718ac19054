import { describe, expect, it } from 'vitest';
import { withoutSkippedDates } from '#lib/domain/fanout/edition-skips.ts';
import type { PagePlan } from '#lib/domain/fanout/run-fanout.ts';
import type { Topic } from '#lib/domain/topic.ts';
import { captureLog } from '../../../support/capture-log.ts';
import { aTopic as aSharedTopic } from '../../../support/fixtures.ts';
import { memoryEditions } from '../../../support/memory-editions.ts';

const zones = ['Pacific/Kiritimati', 'Europe/Paris', 'Pacific/Pago_Pago'];

function aTopic(overrides: Partial<Topic> = {}): Topic {
  return aSharedTopic({ whenNoEdition: 'skip', ...overrides });
}

function aPlan(topics: Topic[]): PagePlan {
  return {
    page: {
      pageId: '1001',
      accessToken: 'page-token',
      deliveryRoute: 'send_api',
      ratePerSecond: 20,
      timezone: 'UTC',
      status: 'active',
    },
    topics,
    zones: new Map(
      topics.map((topic) => [
        topic.topicId,
        zones.map((zone) => ({ cadence: 'DAILY' as const, zone })),
      ]),
    ),
  };
}

// 20:00 UTC on 4 December: 09:00 of 5 December in Kiritimati (19:00 UTC) and 09:00 of
// 4 December in Pago Pago (20:00 UTC); Paris's latest 09:00 was on 4 December (08:00 UTC).
const window = {
  cadence: 'DAILY' as const,
  from: Date.parse('2026-12-04T07:45:00Z'),
  to: Date.parse('2026-12-04T20:00:00Z'),
};

describe('withoutSkippedDates', () => {
  it('leaves out the zones whose slot falls on a date without an edition', async () => {
    const editions = memoryEditions();
    await editions.put(
      { pageId: '1001', topicId: 'deals', date: '2026-12-05', message: { text: 'x' } },
      0,
    );
    const log = captureLog();

    const [plan] = await withoutSkippedDates([aPlan([aTopic()])], window, { editions, log });

    expect(plan?.zones.get('deals')).toEqual([{ cadence: 'DAILY', zone: 'Pacific/Kiritimati' }]);
    expect(log.entries).toContainEqual(
      expect.objectContaining({
        message: 'slots skipped: no edition',
        dates: ['2026-12-04'],
        zones: 2,
      }),
    );
  });

  it('keeps every zone of a topic that sends its own message on such dates', async () => {
    const editions = memoryEditions();
    const plans = [
      aPlan([
        aTopic({ whenNoEdition: 'default' }),
        aTopic({ topicId: 'plain', whenNoEdition: undefined }),
      ]),
    ];

    const [plan] = await withoutSkippedDates(plans, window, { editions, log: captureLog() });

    expect(plan?.zones.get('deals')).toHaveLength(3);
    expect(plan?.zones.get('plain')).toHaveLength(3);
  });

  it('keeps every zone when each date has its edition', async () => {
    const editions = memoryEditions();
    for (const date of ['2026-12-04', '2026-12-05']) {
      await editions.put({ pageId: '1001', topicId: 'deals', date, message: { text: date } }, 0);
    }

    const [plan] = await withoutSkippedDates([aPlan([aTopic()])], window, {
      editions,
      log: captureLog(),
    });

    expect(plan?.zones.get('deals')).toHaveLength(3);
  });

  it('reads nothing for a window with no slot', async () => {
    const editions = memoryEditions();
    let reads = 0;
    const counting = {
      list: (query: Parameters<typeof editions.list>[0]) => {
        reads++;
        return editions.list(query);
      },
    };
    const quiet = {
      ...window,
      from: Date.parse('2026-12-04T21:00:00Z'),
      to: Date.parse('2026-12-04T21:15:00Z'),
    };

    const [plan] = await withoutSkippedDates([aPlan([aTopic()])], quiet, {
      editions: counting,
      log: captureLog(),
    });

    expect(reads).toBe(0);
    expect(plan?.zones.get('deals')).toHaveLength(3);
  });
});
