import { describe, expect, it } from 'vitest';
import { fixedClock } from '#lib/clock.ts';
import { applyMarketingStatuses } from '#lib/domain/intake/apply-marketing-statuses.ts';
import type { MarketingStatusEvent } from '#lib/domain/intake/meta-webhook.ts';
import { createStatsTally } from '#lib/domain/stats.ts';
import { TRACKED_SEND_TTL_MS, type TrackedSend } from '#lib/domain/tracked-send.ts';
import { captureLog } from '../../../support/capture-log.ts';
import {
  memorySubscriptionStore,
  memoryTable,
  memoryTrackedSends,
} from '../../../support/memory-ports.ts';

const HOUR_MS = 3_600_000;
const SENT_AT = Date.parse('2026-11-21T23:30:00Z');
const NOW = SENT_AT + 2 * HOUR_MS;

const aSend = (fields: Partial<TrackedSend> = {}): TrackedSend => ({
  pageId: '1001',
  psid: '5001',
  topicId: 'daily-deals',
  token: 'tok-1',
  campaignId: 'cmp-1',
  trackingId: 'trk-1',
  sentAt: SENT_AT,
  ...fields,
});

const aStatus = (
  status: MarketingStatusEvent['status'],
  fields: Partial<MarketingStatusEvent> = {},
): MarketingStatusEvent => ({
  kind: 'marketing-status',
  pageId: '1001',
  status,
  // A day later than the send (UTC): counts still land on the send's day.
  timestamp: SENT_AT + HOUR_MS,
  token: 'tok-1',
  campaignId: 'cmp-1',
  ...(status !== 'clicked' && status !== 'failed' && { trackingId: 'trk-1' }),
  ...fields,
});

async function apply(sends: TrackedSend[], batches: MarketingStatusEvent[][]) {
  const { tracked } = memoryTrackedSends();
  await tracked.record(sends);
  const tally = createStatsTally();
  const log = captureLog();
  const subscriptions = {
    ...memorySubscriptionStore(memoryTable()),
    findByToken: async () => undefined,
  };
  for (const events of batches) {
    await applyMarketingStatuses(
      events,
      { tracked, subscriptions, clock: fixedClock(NOW), log },
      tally,
    );
  }
  return { increments: tally.increments(), log };
}

describe('applyMarketingStatuses', () => {
  it('counts each move on the send’s topic and day, whatever the order and duplicates', async () => {
    const orders = [
      [[aStatus('delivered')], [aStatus('read')], [aStatus('clicked')]],
      [[aStatus('clicked'), aStatus('clicked')], [aStatus('read')], [aStatus('delivered')]],
      [
        [
          aStatus('read'),
          aStatus('delivered'),
          aStatus('sent'),
          aStatus('clicked'),
          aStatus('read'),
        ],
      ],
    ];

    for (const batches of orders) {
      const { increments } = await apply([aSend()], batches);

      expect(increments).toEqual([
        {
          pageId: '1001',
          topicId: 'daily-deals',
          day: '2026-11-21',
          counts: { delivered: 1, read: 1, clicked: 1 },
        },
      ]);
    }
  });

  it('counts what joins nothing as unmatched on the Page, on the event’s day', async () => {
    const expired = aSend({ trackingId: 'trk-old', sentAt: NOW - TRACKED_SEND_TTL_MS });

    const { increments, log } = await apply(
      [aSend(), expired],
      [
        [
          aStatus('delivered', { trackingId: 'trk-unknown' }),
          aStatus('read', { trackingId: 'trk-old' }),
          aStatus('clicked', { campaignId: 'cmp-other' }),
          aStatus('delivered', { token: undefined }),
        ],
      ],
    );

    expect(increments).toEqual([
      { pageId: '1001', topicId: '_unmatched', day: '2026-11-22', counts: { unmatched: 4 } },
    ]);
    expect(log.entries).toContainEqual(
      expect.objectContaining({ message: 'marketing statuses unmatched', perPage: { '1001': 4 } }),
    );
  });

  it('joins a click or a failure to the token’s latest send of the campaign before it', async () => {
    const earlier = aSend({
      topicId: 'weekly',
      trackingId: 'trk-0',
      sentAt: SENT_AT - 13 * HOUR_MS,
    });
    const later = aSend({
      topicId: 'after-click',
      trackingId: 'trk-2',
      sentAt: SENT_AT + 1.5 * HOUR_MS,
    });

    const { increments } = await apply([earlier, aSend(), later], [[aStatus('clicked')]]);

    expect(increments).toEqual([
      expect.objectContaining({
        topicId: 'daily-deals',
        counts: { delivered: 1, read: 1, clicked: 1 },
      }),
    ]);
  });

  it('counts a failure once as undelivered and nothing the send reports after it', async () => {
    const { increments } = await apply(
      [aSend()],
      [
        [aStatus('failed', { errorMessage: 'Message failed to deliver' })],
        [aStatus('failed')],
        [aStatus('read')],
      ],
    );

    expect(increments).toEqual([expect.objectContaining({ counts: { undelivered: 1 } })]);
  });
});
