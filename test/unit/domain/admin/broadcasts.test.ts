import { describe, expect, it } from 'vitest';
import {
  cancelBroadcast,
  createBroadcast,
  listBroadcasts,
  parseCreateBroadcast,
} from '#lib/domain/admin/broadcasts.ts';
import { InvalidInputError, NotFoundError, RefusedError } from '#lib/domain/errors.ts';
import type { Page } from '#lib/domain/page.ts';
import type { Topic } from '#lib/domain/topic.ts';
import { aTopic } from '../../../support/fixtures.ts';
import { memoryBroadcasts } from '../../../support/memory-broadcasts.ts';
import { memoryCatalog, memoryTable } from '../../../support/memory-ports.ts';

const NOW = Date.parse('2026-11-23T12:00:00Z');

function aPage(overrides: Partial<Page> = {}): Page {
  return {
    pageId: '1001',
    accessToken: 'page-token',
    deliveryRoute: 'marketing_messages',
    adAccountId: '55',
    campaignId: '66',
    ratePerSecond: 20,
    timezone: 'Europe/Paris',
    status: 'active',
    ...overrides,
  };
}

function world(items: { page?: Page; topic?: Topic } = {}) {
  const table = memoryTable({
    pages: [items.page ?? aPage()],
    topics: [items.topic ?? aTopic()],
  });
  const broadcasts = memoryBroadcasts();
  const deps = {
    catalog: memoryCatalog(table),
    broadcasts,
    topicZones: async () => ['Pacific/Kiritimati', 'Europe/Paris', 'America/St_Johns'],
    clock: { now: () => NOW },
  };
  return { deps, broadcasts };
}

const request = (body: Record<string, unknown>, topicId = 'deals') =>
  parseCreateBroadcast({
    params: { topicId },
    query: {},
    body: { pageId: '1001', message: { text: 'Flash sale' }, ...body },
  });

describe('creating a broadcast', () => {
  it('stores it scheduled, with the window from the first zone to the last', async () => {
    const { deps, broadcasts } = world();

    const { broadcast } = await createBroadcast(
      request({ date: '2026-11-24', localTime: '12:00' }),
      deps,
    );

    expect(broadcast).toMatchObject({
      state: 'scheduled',
      date: '2026-11-24',
      localTime: '12:00',
      window: { from: '2026-11-23T22:00:00.000Z', to: '2026-11-24T15:30:00.000Z' },
      counts: { sent: 0, failed: 0, skipped: {} },
    });
    expect(broadcasts.writes).toEqual([`create ${broadcast.broadcastId}`]);
  });

  it.each<[string, { page?: Page; topic?: Topic }, Record<string, unknown>, unknown, RegExp]>([
    [
      'a past time',
      {},
      { date: '2026-11-23', localTime: '10:00' },
      InvalidInputError,
      /^date: .* is past/,
    ],
    [
      'a quiet time',
      {},
      { date: '2026-11-24', localTime: '06:00' },
      InvalidInputError,
      /^localTime: 06:00 is inside/,
    ],
    ['no time at all', {}, {}, InvalidInputError, /^date: required/],
    [
      'a message Meta refuses on the MM route',
      {},
      { message: { text: 'x'.repeat(641) }, now: true },
      InvalidInputError,
      /^message/,
    ],
    [
      'a message of no Send API shape',
      {},
      { message: { html: '<b>' }, now: true },
      InvalidInputError,
      /^message/,
    ],
    [
      'a placeholder on the legacy route',
      { page: aPage({ deliveryRoute: 'send_api', adAccountId: undefined, campaignId: undefined }) },
      { message: { text: 'Hi {{first_name}}' }, now: true },
      InvalidInputError,
      /^message\.text: /,
    ],
    [
      'a paused topic',
      {
        topic: aTopic({
          paused: {
            at: NOW - 3_600_000,
            reason: 'stops',
            sends: 300,
            stops: 12,
            ratePercent: 4,
            thresholdPercent: 3,
          },
        }),
      },
      { now: true },
      RefusedError,
      /^topic deals is paused by the stop-spike breaker since 2026-11-23T11:00:00.000Z/,
    ],
    [
      'a paused Page',
      { page: aPage({ status: 'paused' }) },
      { now: true },
      RefusedError,
      /^Page 1001 is paused/,
    ],
  ])('refuses %s, storing nothing', async (_, items, body, kind, message) => {
    const { deps, broadcasts } = world(items);

    const created = createBroadcast(request(body), deps);

    await expect(created).rejects.toBeInstanceOf(kind);
    await expect(created).rejects.toThrow(message);
    expect(broadcasts.writes).toEqual([]);
  });

  it('refuses an unknown topic with a 404, storing nothing', async () => {
    const { deps, broadcasts } = world();

    const created = createBroadcast(request({ now: true }, 'unknown'), deps);

    await expect(created).rejects.toBeInstanceOf(NotFoundError);
    await expect(created).rejects.toThrow('Page 1001 has no topic unknown');
    expect(broadcasts.writes).toEqual([]);
  });

  it('refuses unknown fields in the body', () => {
    expect(() => request({ now: true, when: 'soon' })).toThrow('when: unknown field');
  });
});

describe('cancelling a broadcast', () => {
  it('cancels one no run has started, and lists it cancelled', async () => {
    const { deps } = world();
    const { broadcast } = await createBroadcast(
      request({ date: '2026-11-24', localTime: '12:00' }),
      deps,
    );

    const cancelled = await cancelBroadcast(
      { pageId: '1001', topicId: 'deals', broadcastId: broadcast.broadcastId },
      deps,
    );
    const listed = await listBroadcasts({ pageId: '1001', topicId: 'deals' }, deps);

    expect(cancelled.broadcast.state).toBe('cancelled');
    expect(listed.items.map((item) => item.state)).toEqual(['cancelled']);
  });

  it('refuses once a run has started it, naming when', async () => {
    const { deps, broadcasts } = world();
    const { broadcast } = await createBroadcast(
      request({ date: '2026-11-24', localTime: '12:00' }),
      deps,
    );
    const key = { pageId: '1001', topicId: 'deals', broadcastId: broadcast.broadcastId };
    await broadcasts.markStarted(key, Date.parse('2026-11-23T22:00:00Z'));

    const cancelled = cancelBroadcast(key, deps);

    await expect(cancelled).rejects.toBeInstanceOf(RefusedError);
    await expect(cancelled).rejects.toThrow(/started at 2026-11-23T22:00:00.000Z/);
  });

  it('answers 404 for a broadcast the topic does not have', async () => {
    const { deps } = world();

    await expect(
      cancelBroadcast({ pageId: '1001', topicId: 'deals', broadcastId: 'nope' }, deps),
    ).rejects.toBeInstanceOf(NotFoundError);
  });
});
