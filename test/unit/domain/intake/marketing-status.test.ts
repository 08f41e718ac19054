import { describe, expect, it } from 'vitest';
import { parseDelivery } from '#lib/domain/intake/meta-webhook.ts';
import {
  aMarketingStatus,
  inChanges,
  type MarketingStatusKind,
} from '../../../support/meta-payloads.ts';

const KINDS: [MarketingStatusKind, string, Record<string, unknown>][] = [
  ['echo', 'sent', { trackingId: 'trk-1' }],
  ['delivery', 'delivered', { trackingId: 'trk-1' }],
  ['read', 'read', { trackingId: 'trk-1' }],
  ['click', 'clicked', { trackingId: undefined }],
  ['failed', 'failed', { trackingId: undefined, errorMessage: 'Message failed to deliver' }],
];

const SHAPES: [string, (status: ReturnType<typeof aMarketingStatus>) => string][] = [
  ['in the change envelope', (status) => inChanges([status])],
  ['as a bare object', (status) => JSON.stringify(status)],
  ['as an array of bare objects', (status) => JSON.stringify([status])],
];

describe('parseDelivery of marketing message statuses (META_PLATFORM.md section 3)', () => {
  for (const [shape, body] of SHAPES) {
    it.each(KINDS)(`reads a documented %s ${shape}`, (kind, status, expected) => {
      const parsed = parseDelivery(body(aMarketingStatus(kind)));

      expect(parsed.ignored).toEqual([]);
      expect(parsed.events).toHaveLength(1);
      const [event] = parsed.events;
      expect(event).toMatchObject({
        kind: 'marketing-status',
        pageId: '1001',
        status,
        timestamp: 1_763_726_400_000,
        token: 'tok-5001',
        campaignId: 'cmp-1',
      });
      expect(event && 'trackingId' in event ? event.trackingId : undefined).toBe(
        expected.trackingId,
      );
      expect(event && 'errorMessage' in event ? event.errorMessage : undefined).toBe(
        expected.errorMessage,
      );
    });
  }

  it('keeps every digit of ids sent as JSON numbers beyond 2^53', () => {
    const body =
      '{"field":"marketing_message_deliveries","recipient_id":90071992547409931,' +
      '"page_id":90071992547409931,"app_id":12313123123123,"timestamp":1763726400000,' +
      '"mid":"mid.$c1","marketing_message_tracking_id":"trk-1",' +
      '"messenger_subscription_token":"tok-5001","message_id":98765432109876543}';

    const [event] = parseDelivery(body).events;

    expect(event).toMatchObject({ pageId: '90071992547409931', campaignId: '98765432109876543' });
  });

  it('accepts a null recipient_id (Custom Audience subscribers)', () => {
    const [event] = parseDelivery(JSON.stringify(aMarketingStatus('read', { psid: null }))).events;

    expect(event).toMatchObject({ status: 'read', trackingId: 'trk-1' });
  });

  it('ignores, with a reason, a bare status without page_id and one without token or tracking id', () => {
    const { page_id: _pageId, ...withoutPage } = aMarketingStatus('delivery');
    const {
      messenger_subscription_token: _token,
      marketing_message_tracking_id: _tracking,
      ...anonymous
    } = aMarketingStatus('delivery');

    const parsed = parseDelivery(JSON.stringify([withoutPage, anonymous]));

    expect(parsed.events).toEqual([]);
    expect(parsed.ignored).toEqual([
      'a marketing message status without page_id',
      'a marketing message delivered event without token or tracking id',
    ]);
  });

  it('ignores a status whose tracking id cannot be part of a key, and keeps the others', () => {
    const body = inChanges([
      aMarketingStatus('delivery', { trackingId: 'x'.repeat(201) }),
      aMarketingStatus('read'),
    ]);

    const parsed = parseDelivery(body);

    expect(parsed.events.map((event) => event.kind === 'marketing-status' && event.status)).toEqual(
      ['read'],
    );
    expect(parsed.ignored).toEqual([
      'an event whose marketing_message_tracking_id cannot be an id',
    ]);
  });

  it('still rejects a body that is neither an envelope nor a status', () => {
    expect(() => parseDelivery('{"field":"feed","value":1}')).toThrow(
      /not a Meta webhook envelope/,
    );
  });

  it.each([
    ['delivery', { delivery: { mids: ['m_1'], watermark: 1_763_726_400_000 } }],
    ['read', { read: { watermark: 1_763_726_400_000 } }],
  ])('leaves the legacy route %s receipt out: no status, no inbound message', (kind, receipt) => {
    const body = JSON.stringify({
      object: 'page',
      entry: [
        {
          id: '1001',
          time: 1_763_726_400_000,
          messaging: [
            { sender: { id: '5001' }, recipient: { id: '1001' }, timestamp: 1, ...receipt },
          ],
        },
      ],
    });

    const parsed = parseDelivery(body);

    expect(parsed.events).toEqual([]);
    expect(parsed.ignored).toEqual([`a messaging event of kind '${kind}'`]);
  });
});
