import { describe, expect, it } from 'vitest';
import type { TokenNode } from '#lib/domain/admin/graph.ts';
import {
  MISSING_APART_MS,
  planLegacyReconcile,
  planMarketingReconcile,
} from '#lib/domain/admin/reconcile-plan.ts';
import type { Subscription } from '#lib/domain/subscription.ts';
import type { Topic } from '#lib/domain/topic.ts';

const NOW = Date.parse('2026-11-21T03:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const PAGE = '1001';

const aTopic = (fields: Partial<Topic> = {}): Topic => ({
  pageId: PAGE,
  topicId: 'daily-deals',
  title: 'Daily deals',
  cadence: 'DAILY',
  sendTime: '09:00',
  message: { text: 'Today only' },
  ...fields,
});

const aNode = (fields: Partial<TokenNode> = {}): TokenNode => ({
  token: 'token-1',
  psid: '5001',
  title: 'Marketing messages',
  createdAt: NOW - 30 * DAY,
  ...fields,
});

const aSubscription = (fields: Partial<Subscription> = {}): Subscription => ({
  pageId: PAGE,
  psid: '5001',
  topicId: 'daily-deals',
  status: 'active',
  token: 'token-1',
  timezone: 'UTC',
  lastEventAt: NOW - 10 * DAY,
  version: 3,
  ...fields,
});

const marketing = (fields: Partial<Parameters<typeof planMarketingReconcile>[0]> = {}) =>
  planMarketingReconcile({
    listed: [],
    stored: [],
    erasurePending: new Set(),
    complete: true,
    listedAt: NOW,
    ...fields,
  });

describe('planMarketingReconcile', () => {
  it.each([
    {
      name: 'an unknown person joins the default topic, titled as the topic',
      defaultTopic: aTopic({ topicId: 'welcome', title: 'Welcome' }),
      expected: { joined: 1, unknownPeople: 0, events: [{ topicId: 'welcome', title: 'Welcome' }] },
    },
    {
      name: 'an unknown person is only counted without a default topic',
      defaultTopic: undefined,
      expected: { joined: 0, unknownPeople: 1, events: [] },
    },
  ])('$name', ({ defaultTopic, expected }) => {
    const plan = marketing({ listed: [aNode()], ...(defaultTopic && { defaultTopic }) });

    expect(plan.joined).toBe(expected.joined);
    expect(plan.unknownPeople).toBe(expected.unknownPeople);
    expect(plan.events).toEqual(
      expected.events.map((event) =>
        expect.objectContaining({
          kind: 'optin',
          psid: '5001',
          token: 'token-1',
          timestamp: NOW - 30 * DAY,
          ...event,
        }),
      ),
    );
  });

  it('leaves alone a listed person whose erasure Meta has not confirmed', () => {
    const plan = marketing({
      listed: [aNode()],
      defaultTopic: aTopic(),
      erasurePending: new Set(['5001']),
    });

    expect(plan).toMatchObject({ joined: 0, unknownPeople: 0, erasurePending: 1, events: [] });
  });

  it("refreshes each of a known person's subscriptions that holds another token", () => {
    const plan = marketing({
      listed: [aNode({ token: 'token-2' })],
      stored: [
        aSubscription({ topicId: 'a', token: 'token-1' }),
        aSubscription({ topicId: 'b', token: 'token-2' }),
      ],
    });

    expect(plan.events).toEqual([
      expect.objectContaining({ kind: 'optin', topicId: 'a', token: 'token-2' }),
    ]);
    expect(plan.joined + plan.unknownPeople).toBe(0);
  });

  it.each([
    {
      name: 'missing once: marked',
      stored: aSubscription(),
      listedAt: NOW,
      expected: { markMissing: 1, stop: 0, clearMissing: 0 },
    },
    {
      name: 'missing twice a day apart: stopped',
      stored: aSubscription({ missingSince: NOW - MISSING_APART_MS }),
      listedAt: NOW,
      expected: { markMissing: 0, stop: 1, clearMissing: 0 },
    },
    {
      name: 'missing twice within a day: the first mark stands, nothing stops',
      stored: aSubscription({ missingSince: NOW - 2 * HOUR }),
      listedAt: NOW,
      expected: { markMissing: 0, stop: 0, clearMissing: 0 },
    },
    {
      name: 'a mark older than the last event (a resume, a new opt-in): marked afresh',
      stored: aSubscription({ missingSince: NOW - 2 * DAY, lastEventAt: NOW - DAY }),
      listedAt: NOW,
      expected: { markMissing: 1, stop: 0, clearMissing: 0 },
    },
    {
      name: 'missing but not active: left alone',
      stored: aSubscription({ status: 'stopped', missingSince: NOW - 2 * DAY }),
      listedAt: NOW,
      expected: { markMissing: 0, stop: 0, clearMissing: 0 },
    },
  ])('$name', ({ stored, listedAt, expected }) => {
    const plan = marketing({
      listed: [aNode({ psid: 'someone-else' })],
      stored: [stored],
      listedAt,
    });

    expect({
      markMissing: plan.markMissing.length,
      stop: plan.stop.length,
      clearMissing: plan.clearMissing.length,
    }).toEqual(expected);
  });

  it('marks and stops nothing when the list is not whole (the 10,000 cap)', () => {
    const plan = marketing({
      stored: [aSubscription({ missingSince: NOW - 2 * DAY }), aSubscription({ psid: '5002' })],
      complete: false,
    });

    expect(plan.markMissing).toEqual([]);
    expect(plan.stop).toEqual([]);
  });

  it('clears the mark of a person listed again', () => {
    const plan = marketing({
      listed: [aNode()],
      stored: [aSubscription({ missingSince: NOW - 2 * HOUR })],
    });

    expect(plan.clearMissing).toEqual([{ pageId: PAGE, psid: '5001', topicId: 'daily-deals' }]);
    expect(plan.stop).toEqual([]);
  });

  it('stops a person once, however many of their topics hold the token', () => {
    const missing = { missingSince: NOW - 25 * HOUR };
    const plan = marketing({
      stored: [
        aSubscription({ topicId: 'a', ...missing }),
        aSubscription({ topicId: 'b', ...missing }),
      ],
    });

    expect(plan.stop).toEqual([{ pageId: PAGE, psid: '5001', token: 'token-1' }]);
  });
});

describe('planLegacyReconcile', () => {
  it('gives each token the one topic its title names, and reports the rest', () => {
    const plan = planLegacyReconcile({
      pageId: PAGE,
      topics: [
        aTopic(),
        aTopic({ topicId: 'x', title: 'Twice' }),
        aTopic({ topicId: 'y', title: 'Twice' }),
      ],
      listed: [
        aNode({ title: 'Daily deals' }),
        aNode({ psid: '5002', title: 'Twice' }),
        aNode({ psid: '5003', title: 'Gone' }),
        aNode({ psid: '5004', title: 'Daily deals' }),
      ],
      erasurePending: new Set(['5004']),
    });

    expect(plan.events).toEqual([
      expect.objectContaining({ psid: '5001', topicId: 'daily-deals' }),
    ]);
    expect(plan.unmatchedTitles).toEqual(['Gone', 'Twice']);
    expect(plan.unmatchedTokens).toBe(2);
    expect(plan.erasurePending).toBe(1);
  });
});
