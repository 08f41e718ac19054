import { describe, expect, it } from 'vitest';
import { marketingCounts, organicCounts } from '#lib/domain/safety/conversation-counts.ts';

const AT = Date.parse('2026-11-21T08:10:00Z');
const message = (fields: { psid?: string; timestamp?: number; messageId?: string } = {}) => ({
  pageId: '1001',
  psid: fields.psid ?? 'p1',
  timestamp: fields.timestamp ?? AT,
  ...(fields.messageId !== undefined && { messageId: fields.messageId }),
});

describe('organicCounts', () => {
  it('counts each message of a delivery once by its id, per person', () => {
    const counts = organicCounts([
      message({ messageId: 'm_1' }),
      message({ messageId: 'm_1' }),
      message({ messageId: 'm_2' }),
      message({ psid: 'p2', messageId: 'm_1' }),
    ]);

    expect(counts.map(({ psid, mark }) => `${psid}:${mark}`)).toEqual([
      'p1:m_1',
      'p1:m_2',
      'p2:m_1',
    ]);
    expect(counts[0]).toEqual({ pageId: '1001', psid: 'p1', kind: 'organic', at: AT, mark: 'm_1' });
  });

  it('marks a message without an id by its time', () => {
    expect(organicCounts([message(), message()]).map((count) => count.mark)).toEqual([`at:${AT}`]);
  });

  it('leaves out a message whose time is no date, rather than failing the delivery', () => {
    expect(organicCounts([message({ timestamp: 9e15, messageId: 'm_far' })])).toEqual([]);
  });
});

describe('marketingCounts', () => {
  it('counts an accepted send at its send time, marked by its tracking id', () => {
    const send = {
      pageId: '1001',
      psid: 'p1',
      topicId: 'deals',
      token: 'tok',
      campaignId: '88',
      trackingId: 'track-1',
      sentAt: AT,
    };

    expect(marketingCounts([send])).toEqual([
      { pageId: '1001', psid: 'p1', kind: 'marketing', at: AT, mark: 'track-1' },
    ]);
  });
});
