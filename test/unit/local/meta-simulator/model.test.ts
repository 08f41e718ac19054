import { describe, expect, it } from 'vitest';
import { fixedClock } from '#lib/clock.ts';
import { parseDelivery } from '#lib/domain/intake/meta-webhook.ts';
import type { GraphErrorSpec } from '../../../../local/meta-simulator/graph-errors.ts';
import {
  createMetaModel,
  type ModelBehaviour,
  type ModelResult,
} from '../../../../local/meta-simulator/model.ts';
import type { OutgoingEvent } from '../../../../local/meta-simulator/webhook-delivery.ts';

const NOW = Date.parse('2026-11-21T09:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const PAGE = '1001';
const PSID = '5001';

function aPlatform(behaviour: ModelBehaviour & { random?: () => number } = {}) {
  const clock = fixedClock(NOW);
  const events: OutgoingEvent[] = [];
  const model = createMetaModel({
    clock,
    emit: (event) => events.push(event),
    random: () => 0,
    // These cases predate Meta's 2026 rules (meta-rules.test.ts has those): a token per topic
    // and the simulator's old MM cooldown code.
    tokenPerPerson: false,
    marketingCooldownCode: 2300052,
    ...behaviour,
  });
  model.addPage({
    id: PAGE,
    accessToken: 'page-token',
    timezone: 'Europe/Paris',
    adAccountId: '777',
    systemUserToken: 'system-token',
  });
  model.addPerson({ pageId: PAGE, psid: PSID, timezone: 'Asia/Kolkata' });
  const campaignId = model.addCampaign({ adAccountId: '777', pageId: PAGE, id: 'camp-1' });
  const later = (ms: number) => clock.set(clock.now() + ms);
  return { clock, events, model, campaignId, later };
}

type Platform = ReturnType<typeof aPlatform>;

function requestOptIn(
  { model }: Platform,
  fields: Partial<Parameters<Platform['model']['requestOptIn']>[1]> = {},
) {
  return model.requestOptIn(PAGE, {
    psid: PSID,
    title: 'Daily deals',
    payload: 'daily-deals',
    ctaText: 'GET_UPDATES',
    ...fields,
  });
}

/** The person writes, is asked, accepts: returns the token. */
function optedIn(platform: Platform, topicId = 'daily-deals', title = 'Daily deals'): string {
  platform.model.personWrites(PAGE, PSID);
  expect(requestOptIn(platform, { payload: topicId, title }).ok).toBe(true);
  const token = platform.model.tokenOf(PAGE, PSID, topicId)?.token;
  if (token === undefined) throw new Error('no token after the opt-in');
  return token;
}

function errorOf<T>(result: ModelResult<T>): Pick<GraphErrorSpec, 'status' | 'code' | 'subcode'> {
  if (result.ok) throw new Error(`expected an error, got ${JSON.stringify(result.value)}`);
  const { status, code, subcode } = result.error;
  return { status, code, ...(subcode !== undefined && { subcode }) };
}

function messagingOf(event: OutgoingEvent | undefined) {
  if (event?.kind !== 'messaging') throw new Error('expected a messaging event');
  return event.event;
}

function parsed(event: OutgoingEvent | undefined) {
  const delivery = parseDelivery(
    JSON.stringify({
      object: 'page',
      entry: [{ id: PAGE, time: NOW, messaging: [messagingOf(event)] }],
    }),
  );
  return delivery.events[0];
}

describe('the 24 h window for opt-in requests', () => {
  it('refuses an opt-in request to a person who never wrote', () => {
    const platform = aPlatform();

    expect(errorOf(requestOptIn(platform))).toEqual({ status: 400, code: 10, subcode: 2534022 });
  });

  it('accepts it within 24 hours of the last message and refuses it after', () => {
    const platform = aPlatform();
    platform.model.personWrites(PAGE, PSID);
    platform.later(DAY);

    expect(requestOptIn(platform).ok).toBe(true);

    platform.later(1);
    expect(errorOf(requestOptIn(platform, { title: 'Other' }))).toMatchObject({ code: 10 });
  });

  it('sends a messages webhook that our parser reads as an inbound message', () => {
    const platform = aPlatform();

    platform.model.personWrites(PAGE, PSID, 'hi');

    expect(platform.events[0]?.dueAt).toBe(NOW);
    expect(parsed(platform.events[0])).toEqual({
      kind: 'inbound',
      pageId: PAGE,
      psid: PSID,
      timestamp: NOW,
      messageId: expect.stringMatching(/^m_/),
    });
  });
});

describe('opt-in requests', () => {
  it('answers the recipient and a message id', () => {
    const platform = aPlatform();
    platform.model.personWrites(PAGE, PSID);

    const result = requestOptIn(platform);

    expect(result.ok && result.value).toEqual({
      recipient_id: PSID,
      message_id: expect.stringMatching(/^m_/),
    });
  });

  it('refuses the same title to the same person within 7 days, not after', () => {
    const platform = aPlatform();
    platform.model.personWrites(PAGE, PSID);
    requestOptIn(platform);
    platform.later(7 * DAY - 1);
    platform.model.personWrites(PAGE, PSID);

    expect(errorOf(requestOptIn(platform))).toEqual({ status: 400, code: 613, subcode: 1893016 });
    expect(requestOptIn(platform, { title: 'Weekly news', payload: 'weekly' }).ok).toBe(true);

    platform.later(1);
    expect(requestOptIn(platform).ok).toBe(true);
  });

  it('delivers an opt-in webhook with a token, the echoed fields and the person zone', () => {
    const platform = aPlatform();
    platform.model.personWrites(PAGE, PSID);
    platform.events.length = 0;

    requestOptIn(platform, { timezone: 'Europe/Paris' });

    const event = parsed(platform.events[0]);
    expect(event).toEqual({
      kind: 'optin',
      pageId: PAGE,
      psid: PSID,
      topicId: 'daily-deals',
      timestamp: NOW,
      token: expect.any(String),
      title: 'Daily deals',
      timezone: 'Asia/Kolkata',
      tokenStatus: 'NOT_REFRESHED',
    });
    expect(messagingOf(platform.events[0]).optin).not.toHaveProperty('token_expiry_timestamp');
  });

  it('writes the token expiry in seconds when asked to', () => {
    const platform = aPlatform({ tokenExpiry: 'seconds', tokenLifetimeMs: 10 * DAY });
    platform.model.personWrites(PAGE, PSID);
    platform.events.length = 0;

    requestOptIn(platform);

    expect(messagingOf(platform.events[0]).optin).toMatchObject({
      token_expiry_timestamp: (NOW + 10 * DAY) / 1000,
    });
  });

  it('falls back to the zone the request names when the person has none', () => {
    const platform = aPlatform();
    platform.model.addPerson({ pageId: PAGE, psid: '5002' });
    platform.model.personWrites(PAGE, '5002');
    platform.events.length = 0;

    requestOptIn(platform, { psid: '5002', timezone: 'America/New_York' });

    expect(messagingOf(platform.events[0]).optin).toMatchObject({
      notification_messages_timezone: 'America/New_York',
    });
  });

  it('answers but sends nothing when the person does not tap the button', () => {
    const platform = aPlatform();
    platform.model.updatePerson(PAGE, PSID, { acceptsOptIn: false });
    platform.model.personWrites(PAGE, PSID);
    platform.events.length = 0;

    expect(requestOptIn(platform).ok).toBe(true);
    expect(platform.events).toEqual([]);
    expect(platform.model.tokens()).toEqual([]);
  });

  it('refreshes the same token on a repeat opt-in and clears a stop', () => {
    const platform = aPlatform();
    const token = optedIn(platform);
    platform.model.personStops(PAGE, PSID, 'daily-deals');
    platform.later(8 * DAY);

    expect(optedIn(platform)).toBe(token);
    expect(platform.model.tokenOf(PAGE, PSID, 'daily-deals')).toMatchObject({
      userTokenStatus: 'REFRESHED',
      stopped: false,
    });
  });

  it('refuses a title longer than 65 characters and an unknown person', () => {
    const platform = aPlatform();
    platform.model.personWrites(PAGE, PSID);

    expect(errorOf(requestOptIn(platform, { title: 'x'.repeat(66) }))).toEqual({
      status: 400,
      code: 100,
    });
    expect(requestOptIn(platform, { title: 'x'.repeat(65) }).ok).toBe(true);
    expect(errorOf(requestOptIn(platform, { psid: '9999' }))).toEqual({
      status: 400,
      code: 100,
      subcode: 2018001,
    });
  });

  it('refuses a call-to-action text Meta does not know', () => {
    const platform = aPlatform();
    platform.model.personWrites(PAGE, PSID);

    expect(errorOf(requestOptIn(platform, { ctaText: 'SUBSCRIBE_NOW' }))).toMatchObject({
      code: 100,
    });
  });

  it('gives WEEKLY tokens only when told to honour the requested frequency', () => {
    const honouring = aPlatform({ honourOptInFrequency: true });
    const ignoring = aPlatform();
    for (const platform of [honouring, ignoring]) {
      platform.model.personWrites(PAGE, PSID);
      requestOptIn(platform, { frequency: 'WEEKLY' });
    }

    expect(honouring.model.tokenOf(PAGE, PSID, 'daily-deals')?.frequency).toBe('WEEKLY');
    expect(ignoring.model.tokenOf(PAGE, PSID, 'daily-deals')?.frequency).toBeUndefined();
  });
});

describe('legacy sends with a token', () => {
  it('allows one send per rolling 48 hours', () => {
    const platform = aPlatform();
    const token = optedIn(platform);
    const send = () => platform.model.sendWithToken(PAGE, token, { text: 'Deal' });

    expect(send().ok).toBe(true);
    platform.later(48 * HOUR - 1);
    expect(errorOf(send())).toEqual({ status: 400, code: 4, subcode: 2018354 });
    platform.later(1);
    expect(send().ok).toBe(true);
  });

  it('says when the token is eligible again only when asked to', () => {
    const quiet = aPlatform();
    const telling = aPlatform({ includeNextEligibleTime: true });
    const results = [quiet, telling].map((platform) => {
      const token = optedIn(platform);
      platform.model.sendWithToken(PAGE, token, { text: 'Deal' });
      return platform.model.sendWithToken(PAGE, token, { text: 'Deal' });
    });

    expect(results[0]?.ok === false && results[0].error.errorData).toBeUndefined();
    expect(results[1]?.ok === false && results[1].error.errorData).toEqual({
      next_eligible_time: (NOW + 48 * HOUR) / 1000,
    });
  });

  it('gives an old WEEKLY token one send per calendar week of the Page zone', () => {
    const platform = aPlatform();
    const { token } = platform.model.seedToken({
      pageId: PAGE,
      psid: PSID,
      topicId: 'weekly-news',
      frequency: 'WEEKLY',
      createdAt: Date.parse('2022-06-01T00:00:00Z'),
      announce: true,
    });
    const sendAt = (iso: string) => {
      platform.clock.set(Date.parse(iso));
      return platform.model.sendWithToken(PAGE, token, { text: 'News' }).ok;
    };

    // Paris is UTC+1: Sunday 22:30 UTC is Sunday 23:30 there, 23:30 UTC is already Monday.
    expect(sendAt('2026-11-22T22:30:00Z')).toBe(true);
    expect(sendAt('2026-11-22T23:30:00Z')).toBe(true);
    expect(sendAt('2026-11-29T22:59:59Z')).toBe(false);
    expect(sendAt('2026-11-29T23:00:00Z')).toBe(true);
    expect(parsed(platform.events[0])).toMatchObject({
      kind: 'optin',
      topicId: 'weekly-news',
      frequency: 'WEEKLY',
      timestamp: Date.parse('2022-06-01T00:00:00Z'),
    });
  });

  it('records the accepted send with its topic and clock time', () => {
    const platform = aPlatform();
    const token = optedIn(platform);

    const result = platform.model.sendWithToken(PAGE, token, { text: 'Deal' });

    expect(result.ok && result.value).toEqual({
      recipient_id: PSID,
      message_id: expect.stringMatching(/^m_/),
    });
    expect(platform.model.sent()).toEqual([
      expect.objectContaining({
        route: 'send_api',
        pageId: PAGE,
        psid: PSID,
        token,
        topicId: 'daily-deals',
        topicTitle: 'Daily deals',
        message: { text: 'Deal' },
        at: NOW,
        answered: true,
      }),
    ]);
  });

  it('refuses an unknown token and a token of another Page as invalid', () => {
    const platform = aPlatform();
    const token = optedIn(platform);
    platform.model.addPage({ id: '2002', accessToken: 'other' });

    expect(errorOf(platform.model.sendWithToken(PAGE, 'nope', { text: 'x' }))).toEqual({
      status: 400,
      code: 100,
    });
    expect(errorOf(platform.model.sendWithToken('2002', token, { text: 'x' }))).toEqual({
      status: 400,
      code: 100,
    });
  });

  it('refuses an empty message', () => {
    const platform = aPlatform();
    const token = optedIn(platform);

    expect(errorOf(platform.model.sendWithToken(PAGE, token, {}))).toMatchObject({ code: 100 });
    expect(platform.model.sent()).toEqual([]);
  });

  it('refuses sends while the person has stopped the topic, and takes them after a resume', () => {
    const platform = aPlatform();
    const token = optedIn(platform);
    platform.events.length = 0;

    platform.model.personStops(PAGE, PSID, 'daily-deals');
    expect(errorOf(platform.model.sendWithToken(PAGE, token, { text: 'x' }))).toEqual({
      status: 400,
      code: 10,
      subcode: 1893015,
    });

    platform.model.personResumes(PAGE, PSID, 'daily-deals');
    expect(platform.model.sendWithToken(PAGE, token, { text: 'x' }).ok).toBe(true);
    expect(platform.events.map((event) => parsed(event)?.kind)).toEqual(['stop', 'resume']);
  });

  it('spells the stop status with an underscore when configured', () => {
    const platform = aPlatform({ stopStatusSpelling: 'underscore' });
    optedIn(platform);
    platform.events.length = 0;

    platform.model.personStops(PAGE, PSID, 'daily-deals');

    expect(messagingOf(platform.events[0]).optin).toMatchObject({
      notification_messages_status: 'STOP_NOTIFICATIONS',
    });
  });

  it('answers 551/1545041, or 200/1545041 if configured, once the person blocked the Page', () => {
    const results = (['551', '200/1545041'] as const).map((blockedError) => {
      const platform = aPlatform({ blockedError });
      const token = optedIn(platform);
      platform.model.personBlocks(PAGE, PSID);
      return errorOf(platform.model.sendWithToken(PAGE, token, { text: 'x' }));
    });

    expect(results).toEqual([
      { status: 400, code: 551, subcode: 1545041 },
      { status: 400, code: 200, subcode: 1545041 },
    ]);
  });

  it('allows three free follow-ups right after the opt-in when that allowance is on', () => {
    const platform = aPlatform({ followUpMessages: true });
    const token = optedIn(platform);
    const send = (text: string) => platform.model.sendWithToken(PAGE, token, { text });

    platform.later(60_000);
    expect([send('Welcome'), send('Tip 1'), send('Tip 2')].map((r) => r.ok)).toEqual([
      true,
      true,
      true,
    ]);
    expect(send('First counted send').ok).toBe(true);
    expect(errorOf(send('Too soon'))).toMatchObject({ subcode: 2018354 });
    expect(platform.model.sent().map((entry) => entry.followUp ?? false)).toEqual([
      true,
      true,
      true,
      false,
    ]);
  });

  it('counts a send right after the opt-in against the cooldown by default', () => {
    const platform = aPlatform();
    const token = optedIn(platform);

    platform.model.sendWithToken(PAGE, token, { text: 'Welcome' });

    expect(errorOf(platform.model.sendWithToken(PAGE, token, { text: 'Tip' }))).toMatchObject({
      subcode: 2018354,
    });
  });

  it('refuses legacy sends outside the legacy countries once they are switched off', () => {
    const platform = aPlatform({ regionRules: { legacyOffFrom: NOW + HOUR } });
    platform.model.addPerson({ pageId: PAGE, psid: '5003', country: 'de' });
    const usToken = optedIn(platform);
    const deToken = platform.model.seedToken({
      pageId: PAGE,
      psid: '5003',
      topicId: 'daily-deals',
    });

    expect(platform.model.sendWithToken(PAGE, usToken, { text: 'x' }).ok).toBe(true);
    platform.later(3 * DAY);
    expect(errorOf(platform.model.sendWithToken(PAGE, usToken, { text: 'x' }))).toEqual({
      status: 400,
      code: 3,
    });
    expect(platform.model.sendWithToken(PAGE, deToken.token, { text: 'x' }).ok).toBe(true);
  });
});

describe('Marketing Message API sends', () => {
  function sendMarketing(platform: Platform, token: string, campaignId = platform.campaignId) {
    return platform.model.sendMarketing('777', { campaignId, token, message: { text: 'Deal' } });
  }

  it('allows one send per token per 12 hours and answers error 2300052 before', () => {
    const platform = aPlatform();
    const token = optedIn(platform);

    const first = sendMarketing(platform, token);
    platform.later(12 * HOUR - 1);
    const early = sendMarketing(platform, token);
    platform.later(1);

    expect(first.ok && first.value).toEqual({
      success: true,
      marketing_message_tracking_id: expect.any(String),
    });
    expect(errorOf(early)).toEqual({ status: 400, code: 2300052 });
    expect(sendMarketing(platform, token).ok).toBe(true);
  });

  it('counts a legacy send against the 12 hours of the new API', () => {
    const platform = aPlatform();
    const token = optedIn(platform);
    platform.model.sendWithToken(PAGE, token, { text: 'x' });
    platform.later(11 * HOUR);

    expect(errorOf(sendMarketing(platform, token))).toMatchObject({ code: 2300052 });
  });

  it('schedules a delivery and, by chance, a read webhook after the configured delay', () => {
    const platform = aPlatform({ marketingStatus: { delayMs: 5000, readProbability: 0.5 } });
    const token = optedIn(platform);
    platform.events.length = 0;

    const result = sendMarketing(platform, token);

    const trackingId = result.ok ? result.value.marketing_message_tracking_id : '';
    expect(trackingId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(platform.events).toEqual([
      {
        kind: 'change',
        pageId: PAGE,
        dueAt: NOW + 5000,
        change: {
          field: 'marketing_message_deliveries',
          value: {
            field: 'marketing_message_deliveries',
            recipient_id: 5001,
            page_id: 1001,
            app_id: 100000000000001,
            timestamp: NOW + 5000,
            mid: expect.stringMatching(/^m_/),
            marketing_message_tracking_id: trackingId,
            messenger_subscription_token: token,
            message_id: platform.campaignId,
          },
        },
      },
      {
        kind: 'change',
        pageId: PAGE,
        dueAt: NOW + 10_000,
        change: {
          field: 'marketing_message_reads',
          value: expect.not.objectContaining({ mid: expect.anything() }),
        },
      },
    ]);
  });

  it('sends an echo, then a click after the read without a tracking id, when asked to', () => {
    const platform = aPlatform({
      random: () => 0,
      marketingStatus: { delayMs: 1000, readProbability: 1, clickProbability: 1, echoes: true },
    });
    const token = optedIn(platform);
    platform.events.length = 0;

    sendMarketing(platform, token);

    const changes = platform.events.flatMap((event) => (event.kind === 'change' ? [event] : []));
    expect(changes.map((event) => [event.change.field, event.dueAt - NOW])).toEqual([
      ['marketing_message_echoes', 0],
      ['marketing_message_deliveries', 1000],
      ['marketing_message_reads', 2000],
      ['marketing_message_clicks', 3000],
    ]);
    const click = changes[3]?.change.value;
    expect(click).toMatchObject({
      messenger_subscription_token: token,
      message_id: platform.campaignId,
    });
    expect(click).not.toHaveProperty('marketing_message_tracking_id');
  });

  it('sends statuses as bare objects, each its own body, when the shape says so', () => {
    const platform = aPlatform({ marketingStatus: { readProbability: 1, shape: 'bare' } });
    const token = optedIn(platform);
    platform.events.length = 0;

    sendMarketing(platform, token);

    expect(platform.events).toEqual([
      expect.objectContaining({
        kind: 'bare',
        body: expect.objectContaining({ field: 'marketing_message_deliveries' }),
      }),
      expect.objectContaining({
        kind: 'bare',
        body: expect.objectContaining({ field: 'marketing_message_reads' }),
      }),
    ]);
  });

  it('sends no read webhook when the chance says no', () => {
    const platform = aPlatform({ random: () => 0.9, marketingStatus: { readProbability: 0.5 } });
    const token = optedIn(platform);
    platform.events.length = 0;

    sendMarketing(platform, token);

    expect(platform.events.map((event) => event.kind === 'change' && event.change.field)).toEqual([
      'marketing_message_deliveries',
    ]);
  });

  it('refuses an unknown campaign as an unknown object', () => {
    const platform = aPlatform();
    const token = optedIn(platform);

    expect(errorOf(sendMarketing(platform, token, 'no-such-campaign'))).toEqual({
      status: 400,
      code: 100,
      subcode: 33,
    });
  });

  it('refuses a stopped token at once, or reports it later when failures are asynchronous', () => {
    const sync = aPlatform();
    const async = aPlatform({ marketingStatus: { asyncFailures: true, delayMs: 0 } });
    const results = [sync, async].map((platform) => {
      const token = optedIn(platform);
      platform.model.personStops(PAGE, PSID, 'daily-deals');
      platform.events.length = 0;
      return sendMarketing(platform, token);
    });

    expect(errorOf(results[0] ?? sendMarketing(sync, ''))).toEqual({
      status: 400,
      code: 10,
      subcode: 1893015,
    });
    expect(results[1]?.ok).toBe(true);
    expect(async.events[0]).toMatchObject({
      kind: 'change',
      change: {
        field: 'marketing_message_delivery_failed',
        value: {
          error_message: expect.any(String),
          messenger_subscription_token: expect.any(String),
        },
      },
    });
    // META_PLATFORM.md section 3: a failure has no `field` and no tracking id.
    const failure = async.events[0]?.kind === 'change' ? async.events[0].change.value : {};
    expect(Object.keys(failure)).not.toContain('field');
    expect(Object.keys(failure)).not.toContain('marketing_message_tracking_id');
  });

  it('refuses people in the legacy countries when the region rules are on', () => {
    const platform = aPlatform({ regionRules: { legacyOffFrom: NOW } });
    platform.model.updatePerson(PAGE, PSID, { country: 'FR' });
    const token = optedIn(platform);

    expect(errorOf(sendMarketing(platform, token))).toEqual({ status: 400, code: 3 });
  });
});

describe('access tokens', () => {
  it('answers 190 for a missing or unknown token and 100/33 for an unknown Page', () => {
    const { model } = aPlatform();

    expect(model.authorisePage(PAGE, undefined, 'POST')).toMatchObject({ code: 190, status: 400 });
    expect(model.authorisePage(PAGE, 'wrong', 'POST')).toMatchObject({ code: 190 });
    expect(model.authorisePage('404', 'page-token', 'POST')).toMatchObject({
      code: 100,
      subcode: 33,
    });
    expect(model.authorisePage(PAGE, 'page-token', 'POST')).toBeUndefined();
  });

  it('takes only the system-user token for the ad account', () => {
    const { model } = aPlatform();

    expect(model.authoriseAdAccount('777', 'page-token', 'POST')).toMatchObject({ code: 190 });
    expect(model.authoriseAdAccount('777', 'system-token', 'POST')).toBeUndefined();
  });
});

describe('token reads', () => {
  it('lists the Page tokens that are not stopped, page by page', () => {
    const platform = aPlatform();
    for (const topic of ['a', 'b', 'c', 'd']) optedIn(platform, topic, `Topic ${topic}`);
    platform.model.personStops(PAGE, PSID, 'b');

    const first = platform.model.listTokens(PAGE, { limit: 2 });
    const after = first.ok ? first.value.after : undefined;
    const second = platform.model.listTokens(PAGE, { limit: 2, ...(after && { after }) });

    expect(first.ok && first.value.data.map((node) => node.topic_title)).toEqual([
      'Topic a',
      'Topic c',
    ]);
    expect(first.ok && first.value.hasMore).toBe(true);
    expect(second.ok && second.value.data.map((node) => node.topic_title)).toEqual(['Topic d']);
    expect(second.ok && second.value.hasMore).toBe(false);
  });

  it('gives each token its fields in seconds, with the next eligible time', () => {
    const platform = aPlatform();
    const token = optedIn(platform);
    platform.model.sendWithToken(PAGE, token, { text: 'x' });

    const listed = platform.model.listTokens(PAGE, {});

    expect(listed.ok && listed.value.data).toEqual([
      {
        notification_messages_token: token,
        recipient_id: PSID,
        topic_title: 'Daily deals',
        creation_timestamp: NOW / 1000,
        user_token_status: 'NOT_REFRESHED',
        notification_messages_timezone: 'Asia/Kolkata',
        next_eligible_time: (NOW + 48 * HOUR) / 1000,
      },
    ]);
  });

  it('reads one token with its stop status', () => {
    const platform = aPlatform();
    const token = optedIn(platform);
    platform.model.personStops(PAGE, PSID, 'daily-deals');

    const read = platform.model.readToken(token);

    expect(read.ok && read.value).toMatchObject({
      id: `notification_messages_${token}`,
      notification_messages_token: token,
      page_id: PAGE,
      notification_messages_status: 'STOP NOTIFICATIONS',
    });
    expect(errorOf(platform.model.readToken('nope'))).toMatchObject({ code: 100, subcode: 33 });
  });
});
