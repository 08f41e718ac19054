import { describe, expect, it } from 'vitest';
import { fixedClock } from '#lib/clock.ts';
import { parseDelivery } from '#lib/domain/intake/meta-webhook.ts';
import { capFor } from '../../../../local/meta-simulator/frequency-caps.ts';
import {
  createMetaModel,
  type ModelBehaviour,
  type ModelResult,
} from '../../../../local/meta-simulator/model.ts';
import { personKey } from '../../../../local/meta-simulator/model-state.ts';
import { createOrganicTraffic } from '../../../../local/meta-simulator/organic-traffic.ts';
import type { OutgoingEvent } from '../../../../local/meta-simulator/webhook-delivery.ts';

/** Meta's 2026 rules as the simulator plays them, with its defaults (META_PLATFORM.md 4, 5, 6). */

const NOW = Date.parse('2026-11-23T09:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MM_PAGE = '2001';
const LEGACY_PAGE = '2002';
const ACCOUNT = '888';
const CAMPAIGN = 'camp-mm';

function aPlatform(behaviour: ModelBehaviour & { realNow?: () => number } = {}) {
  const clock = fixedClock(NOW);
  const events: OutgoingEvent[] = [];
  const model = createMetaModel({ clock, emit: (event) => events.push(event), ...behaviour });
  model.addPage({
    id: MM_PAGE,
    accessToken: 'mm-page-token',
    adAccountId: ACCOUNT,
    systemUserToken: 'system-token',
  });
  model.addPage({ id: LEGACY_PAGE, accessToken: 'legacy-page-token' });
  model.addCampaign({ adAccountId: ACCOUNT, pageId: MM_PAGE, id: CAMPAIGN });
  const later = (ms: number) => clock.set(clock.now() + ms);
  return { clock, events, model, later };
}

type Platform = ReturnType<typeof aPlatform>;

/** A person on the Page who writes and accepts opt-ins to each topic; returns their tokens by topic. */
function optedIn(platform: Platform, pageId: string, topics: string[], psid = 'p1') {
  platform.model.addPerson({ pageId, psid });
  platform.model.personWrites(pageId, psid);
  return topics.map((topicId) => {
    const asked = platform.model.requestOptIn(pageId, { psid, title: topicId, payload: topicId });
    expect(asked.ok).toBe(true);
    return platform.model.tokenOf(pageId, psid, topicId)?.token ?? '';
  });
}

function sendMarketing(platform: Platform, token: string) {
  return platform.model.sendMarketing(ACCOUNT, {
    campaignId: CAMPAIGN,
    token,
    message: { text: 'Deal' },
  });
}

function errorOf<T>(result: ModelResult<T>) {
  if (result.ok) throw new Error(`expected an error, got ${JSON.stringify(result.value)}`);
  const { code, subcode, errorData } = result.error;
  return { code, ...(subcode !== undefined && { subcode }), ...(errorData && { errorData }) };
}

const optInPayloads = (events: OutgoingEvent[]) =>
  events.flatMap((event) => {
    if (event.kind !== 'messaging' || !event.event.optin) return [];
    const optin = event.event.optin as { payload?: string; notification_messages_token?: string };
    return [{ payload: optin.payload, token: optin.notification_messages_token }];
  });

describe('one token per person on the Marketing Message API', () => {
  it('gives a second topic opt-in the token the person holds, with that topic in its webhook', () => {
    const platform = aPlatform();

    const [daily, weekly] = optedIn(platform, MM_PAGE, ['daily', 'weekly']);

    expect(weekly).toBe(daily);
    expect(optInPayloads(platform.events)).toEqual([
      { payload: 'daily', token: daily },
      { payload: 'weekly', token: daily },
    ]);
  });

  it('keeps a token per topic on the legacy route, or where a test asks for it', () => {
    const legacy = aPlatform();
    const perTopic = aPlatform({ tokenPerPerson: false });

    const [a, b] = optedIn(legacy, LEGACY_PAGE, ['daily', 'weekly']);
    const [c, d] = optedIn(perTopic, MM_PAGE, ['daily', 'weekly']);

    expect(a).not.toBe(b);
    expect(c).not.toBe(d);
  });

  it('counts the 12 h cooldown per token, across topics, and answers 2300035 with remaining_seconds', () => {
    const platform = aPlatform();
    const [daily = '', weekly = ''] = optedIn(platform, MM_PAGE, ['daily', 'weekly']);

    expect(sendMarketing(platform, daily).ok).toBe(true);
    platform.later(2 * HOUR);
    const early = sendMarketing(platform, weekly);
    platform.later(10 * HOUR);

    expect(errorOf(early)).toEqual({ code: 2300035, errorData: { remaining_seconds: 36_000 } });
    expect(sendMarketing(platform, weekly).ok).toBe(true);
  });
});

describe('opting out of marketing messages', () => {
  it('counts a second send after the refusal by rule', () => {
    const platform = aPlatform();
    const [token = ''] = optedIn(platform, MM_PAGE, ['daily']);
    platform.model.personOptsOut(MM_PAGE, 'p1');

    sendMarketing(platform, token);
    sendMarketing(platform, token);

    expect(platform.model.ruleRefusals()).toMatchObject({
      total: 1,
      byRule: { stopped: 1 },
      firstOptOutRefusals: 1,
    });
  });

  it('answers 2300034 with no webhook, until the person opts in again', () => {
    const platform = aPlatform();
    const [token = ''] = optedIn(platform, MM_PAGE, ['daily']);
    platform.events.length = 0;

    platform.model.personOptsOut(MM_PAGE, 'p1');
    const refused = sendMarketing(platform, token);
    platform.model.personWrites(MM_PAGE, 'p1');
    platform.model.requestOptIn(MM_PAGE, { psid: 'p1', title: 'weekly', payload: 'weekly' });

    expect(errorOf(refused)).toEqual({ code: 2300034 });
    // No webhook told of the opt-out: the first refusal is no sender's fault.
    expect(platform.model.ruleRefusals()).toMatchObject({ total: 0, firstOptOutRefusals: 1 });
    expect(platform.events.filter((event) => event.kind === 'messaging').length).toBe(2);
    expect(sendMarketing(platform, token).ok).toBe(true);
  });
});

describe('organic traffic', () => {
  it('is the same for the same seed and differs between people', () => {
    const one = createOrganicTraffic({ seed: 7 });
    const again = createOrganicTraffic({ seed: 7 });

    const week = (traffic: typeof one, person: string) =>
      traffic.between(person, NOW - 7 * DAY, NOW);

    expect(week(one, 'a')).toEqual(week(again, 'a'));
    expect(week(one, 'a')).not.toEqual(week(one, 'b'));
    expect(one.rateOf('a')).toBeGreaterThanOrEqual(0.5);
    expect(one.rateOf('a')).toBeLessThanOrEqual(12);
  });

  it('gives each person about their own rate of conversations a day', () => {
    const traffic = createOrganicTraffic({ seed: 1, minPerDay: 3, maxPerDay: 3, silentShare: 0 });

    const from = Date.parse('2026-11-01T00:00:00Z') - 1;

    expect(traffic.between('a', from, from + 28 * DAY).length).toBe(84);
  });
});

describe('frequency caps', () => {
  /** Organic conversations (and other businesses' marketing messages) at these instants. */
  const trafficAt = (times: number[], others: number[] = []) => ({
    between: (_person: string, from: number, to: number) =>
      times.filter((at) => at > from && at <= to),
    othersMarketingBetween: (_person: string, from: number, to: number) =>
      others.filter((at) => at > from && at <= to),
  });
  const hourly = (hours: number, from = NOW) =>
    Array.from({ length: hours }, (_, i) => from - (i + 1) * HOUR).reverse();

  it('lets a message go while marketing stays within the shares of the week and the day', () => {
    expect(capFor(trafficAt(hourly(30)), {}, 'a', [NOW - 30 * HOUR], NOW)).toBeUndefined();
  });

  it('caps the week over 20 % of conversations, counting the message', () => {
    const sends = [1, 2, 3, 4, 5, 6].map((days) => NOW - days * DAY);

    expect(capFor(trafficAt(hourly(27)), {}, 'a', sends, NOW)).toBe('WEEKLY_MM_LOAD_CAP_REACHED');
    expect(capFor(trafficAt(hourly(28)), {}, 'a', sends, NOW)).toBeUndefined();
  });

  it('caps the day over 40 %', () => {
    const organic = [...hourly(2), NOW - 6 * DAY, ...hourly(20, NOW - 2 * DAY)];

    expect(capFor(trafficAt(organic), {}, 'a', [NOW - 3 * HOUR], NOW)).toBe(
      'DAILY_MM_LOAD_CAP_REACHED',
    );
  });

  it('wants an organic conversation since the last marketing message', () => {
    const organic = hourly(40, NOW - 2 * HOUR);

    expect(capFor(trafficAt(organic), {}, 'a', [NOW - HOUR], NOW)).toBe(
      'MIN_ORGANIC_THREAD_NOT_REACHED',
    );
  });

  it("counts other businesses' marketing messages in the week's and the day's shares", () => {
    const sends = [1, 2, 3, 4, 5, 6].map((days) => NOW - days * DAY);
    // 28 organic and our 6 sends leave room for one more; another business's message takes it.
    expect(capFor(trafficAt(hourly(28), [NOW - 8 * HOUR]), {}, 'a', sends, NOW)).toBe(
      'WEEKLY_MM_LOAD_CAP_REACHED',
    );
    // 2 organic today, none of ours: another business's message today makes ours 2 of 4.
    const organic = [...hourly(2), ...hourly(20, NOW - 2 * DAY)];
    expect(capFor(trafficAt(organic), {}, 'a', [], NOW)).toBeUndefined();
    expect(capFor(trafficAt(organic, [NOW - 30 * 60_000]), {}, 'a', [], NOW)).toBe(
      'DAILY_MM_LOAD_CAP_REACHED',
    );
  });

  it('exempts a person with no organic conversation in 7 days', () => {
    expect(capFor(trafficAt([NOW - 8 * DAY]), {}, 'a', [NOW - HOUR], NOW)).toBeUndefined();
  });

  it('refuses MM sends by the organic model, the first cap of a day apart from the refusals by rule', () => {
    // Two conversations a day: the second message within 12-24 h is over the daily share.
    const platform = aPlatform({
      organicTraffic: { seed: 3, minPerDay: 2, maxPerDay: 2, silentShare: 0 },
    });
    const [token = ''] = optedIn(platform, MM_PAGE, ['daily']);

    const first = sendMarketing(platform, token);
    platform.later(13 * HOUR);
    const capped = sendMarketing(platform, token);
    platform.later(HOUR);
    const again = sendMarketing(platform, token);

    expect(first.ok).toBe(true);
    expect(errorOf(capped).code).toBeGreaterThanOrEqual(2300042);
    expect(errorOf(capped).code).toBeLessThanOrEqual(2300044);
    expect(errorOf(again).code).toBe(errorOf(capped).code);
    expect(platform.model.ruleRefusals()).toEqual({
      total: 1,
      byRule: { frequency_cap: 1 },
      firstFrequencyCaps: 1,
      firstOptOutRefusals: 0,
    });
  });
});

describe('the per-Page ceiling of 40 messages a second', () => {
  it('holds a Page over it for a while, on either route, and counts each refusal', () => {
    let real = 0;
    const platform = aPlatform({
      pageCeiling: { perSecond: 3, holdMs: 10_000 },
      realNow: () => real,
    });
    const tokens = ['a', 'b', 'c', 'd'].flatMap((psid) =>
      optedIn(platform, MM_PAGE, ['daily'], psid),
    );
    const [legacy = ''] = optedIn(platform, LEGACY_PAGE, ['daily'], 'e');

    const answers = tokens.map((token) => sendMarketing(platform, token));
    real += 9_000;
    const held = sendMarketing(platform, tokens[3] ?? '');
    real += 1_000;
    const after = sendMarketing(platform, tokens[3] ?? '');
    const otherPage = platform.model.sendWithToken(LEGACY_PAGE, legacy, { text: 'x' });

    expect(answers.map((answer) => answer.ok)).toEqual([true, true, true, false]);
    expect(errorOf(answers[3] ?? held)).toEqual({
      code: 2300078,
      errorData: { remaining_seconds: 10 },
    });
    expect(errorOf(held)).toMatchObject({ errorData: { remaining_seconds: 1 } });
    expect(after.ok).toBe(true);
    expect(otherPage.ok).toBe(true);
    expect(platform.model.ruleRefusals().byRule).toEqual({ page_ceiling: 2 });
  });

  it('is 40 a second by default', () => {
    const platform = aPlatform({ realNow: () => 0 });
    const tokens = Array.from({ length: 41 }, (_, i) =>
      optedIn(platform, LEGACY_PAGE, ['daily'], `p${i}`),
    ).flat();

    const answers = tokens.map((token) =>
      platform.model.sendWithToken(LEGACY_PAGE, token, { text: 'x' }),
    );

    const last = answers.at(-1);

    expect(answers.filter((answer) => answer.ok).length).toBe(40);
    expect(last && errorOf(last)).toMatchObject({ code: 32 });
  });
});

describe('refusals by rule', () => {
  it('counts cooldowns, stops, dead tokens and opt-in limits, not the window or a block', () => {
    const platform = aPlatform();
    const [token = ''] = optedIn(platform, LEGACY_PAGE, ['daily']);
    const [other = ''] = optedIn(platform, LEGACY_PAGE, ['weekly'], 'p2');
    const send = (value: string) => platform.model.sendWithToken(LEGACY_PAGE, value, { text: 'x' });

    send(token);
    send(token);
    platform.model.requestOptIn(LEGACY_PAGE, { psid: 'p1', title: 'daily', payload: 'daily' });
    send('no-such-token');
    platform.model.personStops(LEGACY_PAGE, 'p2', 'weekly');
    send(other);
    platform.later(2 * DAY);
    platform.model.requestOptIn(LEGACY_PAGE, { psid: 'p1', title: 'news', payload: 'news' });
    platform.model.personBlocks(LEGACY_PAGE, 'p1');
    send(token);

    expect(platform.model.ruleRefusals()).toEqual({
      total: 4,
      byRule: { cooldown: 1, optin_limit: 1, dead_token: 1, stopped: 1 },
      firstFrequencyCaps: 0,
      firstOptOutRefusals: 0,
    });
  });
});

describe('organic conversations with the Page', () => {
  it("draws the Page's share of a person's conversations, the same for the same seed", () => {
    const traffic = createOrganicTraffic({
      seed: 5,
      minPerDay: 10,
      maxPerDay: 10,
      silentShare: 0,
      pageShare: 0.3,
    });
    const from = Date.parse('2026-11-01T00:00:00Z');
    const all = traffic.between('a', from, from + 28 * DAY);
    const withPage = traffic.withPageBetween('a', from, from + 28 * DAY);

    expect(withPage.every((at) => all.includes(at))).toBe(true);
    expect(withPage.length).toBeGreaterThan(0.2 * all.length);
    expect(withPage.length).toBeLessThan(0.4 * all.length);
    expect(
      createOrganicTraffic({
        seed: 5,
        minPerDay: 10,
        maxPerDay: 10,
        silentShare: 0,
        pageShare: 0.3,
      }).withPageBetween('a', from, from + 28 * DAY),
    ).toEqual(withPage);
    expect(createOrganicTraffic({ seed: 5 }).withPageBetween('a', from, from + 28 * DAY)).toEqual(
      [],
    );
  });

  it("draws other businesses' marketing messages at their rate", () => {
    const traffic = createOrganicTraffic({ seed: 5, othersMarketingPerDay: 0.5 });
    const from = Date.parse('2026-11-01T00:00:00Z') - 1;

    const others = traffic.othersMarketingBetween('a', from, from + 100 * DAY);

    expect(others.length).toBeGreaterThan(30);
    expect(others.length).toBeLessThan(70);
  });

  it('sends each conversation with the Page once as a messages webhook our parser reads, from when a person is first seen', () => {
    const platform = aPlatform({
      organicTraffic: { seed: 9, minPerDay: 6, maxPerDay: 6, silentShare: 0, pageShare: 0.5 },
    });
    const traffic = createOrganicTraffic({
      seed: 9,
      minPerDay: 6,
      maxPerDay: 6,
      silentShare: 0,
      pageShare: 0.5,
    });
    platform.model.addPerson({ pageId: MM_PAGE, psid: 'talker' });
    const start = platform.clock.now();

    expect(platform.model.peopleConverse()).toBe(0);
    platform.later(3 * DAY);
    const sent = platform.model.peopleConverse();
    platform.later(DAY);
    const more = platform.model.peopleConverse();

    const expected = (from: number, to: number) =>
      traffic.withPageBetween(personKey(MM_PAGE, 'talker'), from, to).length;
    expect(sent).toBe(expected(start, start + 3 * DAY));
    expect(more).toBe(expected(start + 3 * DAY, start + 4 * DAY));
    expect(sent).toBeGreaterThan(0);
    const inbound = platform.events
      .flatMap((event) => (event.kind === 'messaging' ? [event] : []))
      .map(
        (event) =>
          parseDelivery(
            JSON.stringify({
              object: 'page',
              entry: [{ id: event.pageId, messaging: [event.event] }],
            }),
          ).events[0],
      )
      .filter((event) => event?.kind === 'inbound');
    expect(inbound).toHaveLength(sent + more);
    expect(new Set(inbound.map((event) => event?.kind === 'inbound' && event.messageId)).size).toBe(
      sent + more,
    );
  });
});
