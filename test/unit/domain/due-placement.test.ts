import { describe, expect, it } from 'vitest';
import { duePlacement } from '#lib/domain/due-placement.ts';
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
