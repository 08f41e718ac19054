import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '#lib/domain/errors.ts';
import {
  normaliseStatus,
  parseDelivery,
  STORED_TEXT_MAX_CHARS,
} from '#lib/domain/intake/meta-webhook.ts';
import { normaliseExpiry } from '#lib/domain/subscription.ts';
import { fixtureText } from '../../../support/fixtures.ts';
import { aDelivery, anOptin } from '../../../support/meta-payloads.ts';

describe('parseDelivery', () => {
  it('reads every entry and every event of a batched delivery', () => {
    const parsed = parseDelivery(fixtureText('webhooks/batch.json'));

    expect(parsed.events.map((event) => event.kind)).toEqual([
      'optin',
      'optin',
      'inbound',
      'optin',
    ]);
    expect(parsed.ignored).toHaveLength(2);
  });

  it('accepts numeric-string timestamps and expiry in seconds', () => {
    const [first] = parseDelivery(fixtureText('webhooks/batch.json')).events;

    expect(first).toMatchObject({
      kind: 'optin',
      pageId: '1001',
      psid: '5002',
      topicId: 'daily-deals',
      timestamp: 1_763_715_600_000,
      tokenExpiresAt: 1_795_251_600_000,
      timezone: 'Asia/Kolkata',
    });
  });

  it('keeps expiry given in milliseconds as it is', () => {
    const [optin] = parseDelivery(fixtureText('webhooks/optin.json')).events;

    expect(optin).toMatchObject({ tokenExpiresAt: 1_795_251_600_000, token: 'tok-5001-daily' });
  });

  it('reads the frequency of old tokens', () => {
    const events = parseDelivery(fixtureText('webhooks/batch.json')).events;

    expect(events[1]).toMatchObject({ kind: 'optin', frequency: 'WEEKLY', topicId: 'weekly-news' });
  });

  it.each([['webhooks/stop-space.json'], ['webhooks/stop-underscore.json']])(
    'reads a stop in either spelling (%s)',
    (name) => {
      const [event] = parseDelivery(fixtureText(name)).events;

      expect(event).toMatchObject({ kind: 'stop', psid: '5001', topicId: 'daily-deals' });
    },
  );

  it('reads a resume', () => {
    const [event] = parseDelivery(fixtureText('webhooks/resume.json')).events;

    expect(event).toMatchObject({ kind: 'resume', timestamp: 1_763_722_800_000 });
  });

  it('takes the Instagram account id as the page id', () => {
    const [event] = parseDelivery(fixtureText('webhooks/instagram-optin.json')).events;

    expect(event).toMatchObject({ kind: 'optin', pageId: '17841400000000001', psid: '9001' });
  });

  it('decodes escaped unicode in titles and topic ids', () => {
    const [event] = parseDelivery(fixtureText('webhooks/escaped-unicode.json')).events;

    expect(event).toMatchObject({ topicId: 'tägliche-angebote', title: 'Tägliche Angebote 🔥' });
  });

  it('reads marketing message statuses from changes and from messaging', () => {
    const events = parseDelivery(fixtureText('webhooks/marketing-statuses.json')).events;

    expect(events.map((event) => event.kind === 'marketing-status' && event.status)).toEqual([
      'clicked',
      'delivered',
      'read',
    ]);
    expect(events[0]).toMatchObject({ token: 'tok-5001-daily', trackingId: 'trk-1' });
  });

  it('reads the error of a failed marketing message', () => {
    const [event] = parseDelivery(fixtureText('webhooks/marketing-delivery-failed.json')).events;

    expect(event).toMatchObject({ status: 'failed', error: { code: 10, subcode: 1893015 } });
  });

  it('ignores objects it does not handle', () => {
    const parsed = parseDelivery(fixtureText('webhooks/unknown-object.json'));

    expect(parsed.events).toEqual([]);
    expect(parsed.ignored).toEqual(["object 'whatsapp_business_account' is not handled"]);
  });

  it('rejects text that is not JSON with a message that says so', () => {
    expect(() => parseDelivery(fixtureText('webhooks/malformed.txt'))).toThrow(
      /body is not valid JSON/,
    );
  });

  it('rejects JSON that is not an envelope', () => {
    expect(() => parseDelivery('{"entry":"nope"}')).toThrow(InvalidInputError);
  });

  it('ignores a malformed optin without dropping its neighbours', () => {
    const body = JSON.stringify({
      object: 'page',
      entry: [
        {
          id: '1',
          messaging: [
            { sender: { id: '2' }, timestamp: 1, optin: { type: 'notification_messages' } },
            {
              sender: { id: '3' },
              timestamp: 2,
              optin: {
                type: 'notification_messages',
                payload: 't',
                notification_messages_token: 'x',
              },
            },
          ],
        },
      ],
    });

    const parsed = parseDelivery(body);

    expect(parsed.events).toHaveLength(1);
    expect(parsed.ignored[0]).toMatch(/malformed/);
  });

  it.each([
    ['optin.title', { title: 'x'.repeat(STORED_TEXT_MAX_CHARS + 1) }],
    ['optin.notification_messages_token', { token: 't'.repeat(STORED_TEXT_MAX_CHARS + 1) }],
    ['optin.notification_messages_timezone', { timezone: 'z'.repeat(STORED_TEXT_MAX_CHARS + 1) }],
  ])(
    'ignores an optin whose %s is too long to keep, without dropping its neighbours',
    (field, fields) => {
      const parsed = parseDelivery(
        aDelivery([anOptin({ psid: '1', ...fields }), anOptin({ psid: '2' })]),
      );

      expect(parsed.events.map((event) => 'psid' in event && event.psid)).toEqual(['2']);
      expect(parsed.ignored).toEqual([
        `an event whose ${field} is longer than ${STORED_TEXT_MAX_CHARS} characters`,
      ]);
    },
  );

  it('ignores a stop whose token is too long to keep, and an optin whose token status is', () => {
    const long = 's'.repeat(STORED_TEXT_MAX_CHARS + 1);
    const stop = anOptin({ psid: '1', status: 'STOP_NOTIFICATIONS', token: long });
    const optin = anOptin({ psid: '2' });
    Object.assign(optin.optin, { user_token_status: long });
    const body = aDelivery([stop, optin]);

    const parsed = parseDelivery(body);

    expect(parsed.events).toEqual([]);
    expect(parsed.ignored).toEqual([
      `an event whose optin.notification_messages_token is longer than ${STORED_TEXT_MAX_CHARS} characters`,
      `an event whose optin.user_token_status is longer than ${STORED_TEXT_MAX_CHARS} characters`,
    ]);
  });

  it('keeps texts of exactly the longest length', () => {
    const longest = 'x'.repeat(STORED_TEXT_MAX_CHARS);
    const parsed = parseDelivery(aDelivery([anOptin({ title: longest, token: longest })]));

    expect(parsed.ignored).toEqual([]);
    expect(parsed.events[0]).toMatchObject({ kind: 'optin', title: longest, token: longest });
  });
});

describe('normalisers', () => {
  it('treats expiry above 1e12 as milliseconds and below as seconds', () => {
    expect(normaliseExpiry(1_795_251_600)).toBe(1_795_251_600_000);
    expect(normaliseExpiry(1_795_251_600_000)).toBe(1_795_251_600_000);
  });

  it('normalises status spellings', () => {
    expect(normaliseStatus('stop_notifications')).toBe('STOP NOTIFICATIONS');
    expect(normaliseStatus('RESUME NOTIFICATIONS')).toBe('RESUME NOTIFICATIONS');
  });
});
