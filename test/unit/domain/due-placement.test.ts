import { describe, expect, it } from 'vitest';
import {
  type DuePlacement,
  duePlacement,
  saveZoneFirst,
  topicZoneRecorder,
} from '#lib/domain/due-placement.ts';
import type { SaveOutcome } from '#lib/domain/ports.ts';
import type { Subscription } from '#lib/domain/subscription.ts';
import type { Topic } from '#lib/domain/topic.ts';

const T0 = 1_763_715_600_000;

const aTopic = (overrides: Partial<Topic> = {}): Topic => ({
  pageId: '1001',
  topicId: 'daily-deals',
  title: 'Daily deals',
  cadence: 'DAILY',
  sendTime: '09:00',
  message: { text: 'Deals!' },
  ...overrides,
});

const active: Subscription = {
  pageId: '1001',
  psid: '5001',
  topicId: 'daily-deals',
  status: 'active',
  token: 'tok-1',
  timezone: 'Asia/Kathmandu',
  timezoneAt: T0,
  lastEventAt: T0,
  activeSince: T0,
  optedInAt: T0,
};

describe('duePlacement', () => {
  it('places an active subscription under its topic cadence and zone', () => {
    expect(duePlacement(active, aTopic())).toEqual({ cadence: 'DAILY', zone: 'Asia/Kathmandu' });
  });

  it('places an old WEEKLY token under WEEKLY whatever the topic says', () => {
    expect(duePlacement({ ...active, frequency: 'WEEKLY' }, aTopic())?.cadence).toBe('WEEKLY');
  });

  it('keeps it out of the index while the topic is not defined', () => {
    expect(duePlacement(active, undefined)).toBeUndefined();
  });

  it('keeps stopped ones and ones without a token out', () => {
    expect(duePlacement({ ...active, status: 'stopped' }, aTopic())).toBeUndefined();
    const { token: _token, ...tokenless } = active;
    expect(duePlacement(tokenless, aTopic())).toBeUndefined();
  });
});

describe('saveZoneFirst', () => {
  const paris: DuePlacement = { cadence: 'DAILY', zone: 'Europe/Paris' };

  /** A store whose version moves `conflicts` times under the writer, logging every call. */
  function aRacedStore(conflicts: number) {
    const calls: string[] = [];
    let version = 0;
    return {
      calls,
      read: async () => {
        calls.push(`read ${version}`);
        return version;
      },
      save: async (read: number): Promise<SaveOutcome> => {
        calls.push(`save ${read}`);
        if (conflicts-- > 0) {
          version++;
          return 'conflict';
        }
        return read === version ? 'saved' : 'conflict';
      },
    };
  }

  it('records the zone before the write that indexes the subscription', async () => {
    const store = aRacedStore(0);

    const saved = await saveZoneFirst(
      0,
      {
        plan: async (read) => ({ placement: paris, save: () => store.save(read) }),
        recordZone: async (placement) => {
          store.calls.push(`zone ${placement.zone}`);
        },
        reread: store.read,
      },
      'kept changing',
    );

    expect(saved?.placement).toEqual(paris);
    expect(store.calls).toEqual(['zone Europe/Paris', 'save 0']);
  });

  it('plans a lost write again from a fresh read', async () => {
    const store = aRacedStore(2);

    await saveZoneFirst(
      0,
      {
        plan: async (read) => ({ placement: undefined, save: () => store.save(read) }),
        recordZone: async () => {},
        reread: store.read,
      },
      'kept changing',
    );

    expect(store.calls).toEqual(['save 0', 'read 1', 'save 1', 'read 2', 'save 2']);
  });

  it('gives up after 8 lost writes', async () => {
    const store = aRacedStore(100);
    const attempt = saveZoneFirst(
      0,
      {
        plan: async (read) => ({ placement: paris, save: () => store.save(read) }),
        recordZone: async () => {},
        reread: store.read,
      },
      'subscription x kept changing',
    );

    await expect(attempt).rejects.toThrow('subscription x kept changing');
    expect(store.calls.filter((call) => call.startsWith('save'))).toHaveLength(8);
  });

  it('writes nothing when the plan finds nothing to write', async () => {
    const store = aRacedStore(0);

    const saved = await saveZoneFirst(
      0,
      { plan: async () => undefined, recordZone: async () => {}, reread: store.read },
      'kept changing',
    );

    expect(saved).toBeUndefined();
    expect(store.calls).toEqual([]);
  });
});

describe('topicZoneRecorder', () => {
  it('records each zone of a topic once, and again after a failed write', async () => {
    const written: string[] = [];
    let failNext = true;
    const record = topicZoneRecorder({
      addTopicZones: async (pageId, topicId, zones) => {
        written.push(`${pageId}/${topicId}/${zones.map((z) => `${z.cadence}#${z.zone}`).join()}`);
        if (failNext) {
          failNext = false;
          throw new Error('throttled');
        }
      },
    });
    const paris: DuePlacement = { cadence: 'DAILY', zone: 'Europe/Paris' };

    await expect(record('1001', 'daily', paris)).rejects.toThrow('throttled');
    await record('1001', 'daily', paris);
    await record('1001', 'daily', paris);
    await record('1001', 'weekly', paris);

    expect(written).toEqual([
      '1001/daily/DAILY#Europe/Paris',
      '1001/daily/DAILY#Europe/Paris',
      '1001/weekly/DAILY#Europe/Paris',
    ]);
  });
});
