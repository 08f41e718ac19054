import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instantAtLocal } from '../../lib/domain/slots.ts';
import { freePort } from '../../local/emulators.ts';
import { type Runtime, startRuntime } from '../../local/runtime.ts';
import { captureLog } from '../support/capture-log.ts';
import { adminClient, moveClock, settled } from '../support/local-runtime.ts';

/**
 * Broadcasts through `npm start`'s runtime and the Meta simulator, on the Marketing Message
 * route (12 h cooldown): a DAILY 09:00 topic with subscribers in four zones and a broadcast at
 * 12:00 local on Tuesday 24 November 2026. Who got Tuesday's 09:00 slot is skipped (cooldown);
 * who opted in after it gets the broadcast at their own 12:00, once. A cancelled broadcast
 * sends nothing; one sent `now` reaches everyone at once.
 */
const ADMIN_TOKEN = 'broadcasts-e2e-admin';
const PAGE_ID = '7401';
const NOW_PAGE_ID = '7402';
const START = Date.parse('2026-11-23T12:00:00Z');
const END = Date.parse('2026-11-24T18:00:00Z');
const DATE = '2026-11-24';
const ZONES = ['Pacific/Kiritimati', 'Asia/Kolkata', 'Europe/Paris', 'America/St_Johns'];
/** Opted in before Tuesday: they get its 09:00 slot, so the 12:00 broadcast finds them in cooldown. */
const EARLY = ZONES.map((zone, i) => ({ psid: `82${i}1`, zone }));
/** Opted in at 10:30 their time on Tuesday: no 09:00 slot, so they get the broadcast. */
const LATE = ZONES.map((zone, i) => ({ psid: `82${i}2`, zone }));
const BROADCAST_TEXT = 'Flash sale: today only';
const MAX_STEP = 3 * 3_600_000;
const QUARTER = 15 * 60_000;

const log = captureLog();
let runtime: Runtime;
const admin = adminClient(() => runtime, ADMIN_TOKEN);

function simulator() {
  if (!runtime.simulator) throw new Error('the runtime runs without its simulator');
  return runtime.simulator;
}

/** A wall-clock time on Tuesday in `zone`, as an instant. */
function tuesdayAt(zone: string, hour: number, minute: number): number {
  return instantAtLocal(zone, { year: 2026, month: 11, day: 24, hour, minute });
}

function sentTo(psid: string, pageId = PAGE_ID) {
  return simulator()
    .sent()
    .filter((entry) => entry.pageId === pageId && entry.psid === psid && !entry.followUp);
}

async function seed(
  pageId: string,
  topicId: string,
  people: readonly { psid: string; zone: string }[],
) {
  for (const { psid, zone } of people) {
    simulator().addPerson({ pageId, psid, timezone: zone });
    simulator().seedToken({ pageId, psid, topicId, title: topicId, announce: true });
  }
  await simulator().settle();
}

let broadcastId = '';
let cancelledId = '';

beforeAll(async () => {
  runtime = await startRuntime({
    port: await freePort(),
    appSecret: 'broadcasts-e2e-secret',
    verifyToken: 'broadcasts-e2e-verify',
    adminToken: ADMIN_TOKEN,
    graphVersion: 'v24.0',
    clockStart: START,
    clockSpeed: 1,
    log,
    tableName: `broadcasts-e2e-${Date.now()}`,
    useRunningEmulators: true,
  });
  for (const pageId of [PAGE_ID, NOW_PAGE_ID]) {
    const page = await admin('PUT', `/admin/pages/${pageId}`, {
      accessToken: `broadcasts-e2e-token-${pageId}`,
      timezone: 'Europe/Paris',
      deliveryRoute: 'marketing_messages',
      adAccountId: `${pageId}9`,
      campaignId: `${pageId}000`,
    });
    expect(page.status).toBe(200);
  }
  const daily = await admin('PUT', '/admin/topics/deals', {
    pageId: PAGE_ID,
    title: 'deals',
    cadence: 'DAILY',
    sendTime: '09:00',
    message: { text: 'Our deals' },
  });
  expect(daily.status).toBe(200);
  // Its one slot (1 December) is after the test: only the broadcast sends; no quiet hours.
  const monthly = await admin('PUT', '/admin/topics/news', {
    pageId: NOW_PAGE_ID,
    title: 'news',
    cadence: 'MONTHLY',
    dayOfMonth: 1,
    sendTime: '09:00',
    message: { text: 'Monthly news' },
    quietHours: { start: '00:00', end: '00:00' },
  });
  expect(monthly.status).toBe(200);
  await seed(PAGE_ID, 'deals', EARLY);
  await seed(NOW_PAGE_ID, 'news', EARLY);
}, 60_000);

afterAll(async () => {
  await runtime?.stop();
});

describe('broadcasts end to end', () => {
  it('refuses bad input with a 4xx naming what is wrong, and stores nothing', async () => {
    const path = '/admin/topics/deals/broadcasts';
    const valid = { pageId: PAGE_ID, message: { text: 'x' }, date: DATE, localTime: '12:00' };
    const cases: [unknown, number, RegExp][] = [
      [
        { ...valid, date: '2026-11-23', localTime: '10:00' },
        400,
        /^date: .*past in Pacific\/Kiritimati/,
      ],
      [
        { ...valid, localTime: '22:00' },
        400,
        /^localTime: 22:00 is inside the default quiet hours/,
      ],
      [{ ...valid, date: '2026-02-30' }, 400, /^date: /],
      [{ ...valid, localTime: '9:00' }, 400, /^localTime: must be HH:mm/],
      [{ ...valid, now: true }, 400, /^date: not with now/],
      [{ ...valid, message: { text: 'x'.repeat(641) } }, 400, /^message/],
      [{ pageId: PAGE_ID, message: { text: 'x' } }, 400, /^date: required/],
    ];
    for (const [body, status, message] of cases) {
      const answer = await admin('POST', path, body);
      expect({ status: answer.status, message: answer.body.error.message }).toEqual({
        status,
        message: expect.stringMatching(message),
      });
    }
    const unknown = await admin('POST', '/admin/topics/nope/broadcasts', valid);
    expect(unknown.status).toBe(404);

    const listed = await admin('GET', `${path}?pageId=${PAGE_ID}`);
    expect(listed.body.items).toEqual([]);
  });

  it('creates a broadcast: 201 with its id and the window from the first zone to the last', async () => {
    const created = await admin('POST', '/admin/topics/deals/broadcasts', {
      pageId: PAGE_ID,
      message: { text: BROADCAST_TEXT },
      date: DATE,
      localTime: '12:00',
    });
    const doomed = await admin('POST', '/admin/topics/deals/broadcasts', {
      pageId: PAGE_ID,
      message: { text: 'never sent' },
      date: DATE,
      localTime: '12:30',
    });
    cancelledId = doomed.body.broadcast.broadcastId;
    const cancel = await admin(
      'DELETE',
      `/admin/topics/deals/broadcasts/${cancelledId}?pageId=${PAGE_ID}`,
    );

    expect(created.status).toBe(201);
    broadcastId = created.body.broadcast.broadcastId;
    expect(created.body.broadcast).toMatchObject({
      state: 'scheduled',
      // Kiritimati (UTC+14) first, St John's (UTC-3:30) last, as the topic's zones are now.
      window: { from: '2026-11-23T22:00:00.000Z', to: '2026-11-24T15:30:00.000Z' },
    });
    expect(cancel.status).toBe(200);
    expect(cancel.body.broadcast.state).toBe('cancelled');
  });

  it("reaches each late subscriber at their own 12:00 once, and skips who got Tuesday's slot", async () => {
    const seeds = new Map(LATE.map((person) => [tuesdayAt(person.zone, 10, 30), person]));
    const stops = new Set<number>([END, ...seeds.keys()]);
    for (const zone of ZONES) {
      for (const [hour, minute] of [
        [9, 0],
        [12, 0],
        [12, 30],
      ] as const) {
        stops.add(tuesdayAt(zone, hour, minute));
      }
    }
    let at = START;
    for (const stop of [...stops].sort((a, b) => a - b)) {
      while (at < stop) {
        at = Math.min(stop, at + MAX_STEP);
        await moveClock(runtime, at);
        await settled(runtime);
      }
      const late = seeds.get(stop);
      if (late) await seed(PAGE_ID, 'deals', [late]);
    }

    for (const { psid, zone } of LATE) {
      const broadcasts = sentTo(psid).filter((entry) => entry.message.text === BROADCAST_TEXT);
      expect(broadcasts, psid).toHaveLength(1);
      const noon = tuesdayAt(zone, 12, 0);
      expect(broadcasts[0]?.at, zone).toBeGreaterThanOrEqual(noon);
      expect(broadcasts[0]?.at, zone).toBeLessThan(noon + QUARTER);
    }
    for (const { psid } of EARLY) {
      expect(
        sentTo(psid).map((entry) => entry.message.text),
        psid,
      ).toContain('Our deals');
      expect(
        sentTo(psid).map((entry) => entry.message.text),
        psid,
      ).not.toContain(BROADCAST_TEXT);
    }
    const everything = simulator()
      .sent()
      .map((entry) => entry.message.text);
    expect(everything).not.toContain('never sent');
  }, 240_000);

  it('lists the broadcasts with their state and counts: sends, and skips by reason', async () => {
    await moveClock(runtime, END + 30 * 60_000);
    await settled(runtime);
    const listed = await admin('GET', `/admin/topics/deals/broadcasts?pageId=${PAGE_ID}`);
    const byId = new Map(
      listed.body.items.map((item: { broadcastId: string }) => [item.broadcastId, item]),
    );

    expect(byId.get(broadcastId)).toMatchObject({
      state: 'done',
      counts: { sent: LATE.length, failed: 0, skipped: { cooldown: EARLY.length } },
    });
    expect(byId.get(cancelledId)).toMatchObject({
      state: 'cancelled',
      counts: { sent: 0, failed: 0, skipped: {} },
    });
    const queued = log.entries.filter((entry) => entry.message === 'broadcast queued');
    expect(queued.some((entry) => entry.broadcastId === cancelledId)).toBe(false);
    const skips = log.entries.filter(
      (entry) => entry.message === 'send job skipped' && entry.reason === 'cooldown',
    );
    expect(skips.map((entry) => entry.psid).sort()).toEqual(EARLY.map(({ psid }) => psid).sort());
    const again = await admin(
      'DELETE',
      `/admin/topics/deals/broadcasts/${broadcastId}?pageId=${PAGE_ID}`,
    );
    expect(again.status).toBe(409);
    expect(again.body.error.message).toMatch(/started at 2026-11-23T22:00:00.000Z/);
  });

  it('sends a `now` broadcast to every subscriber at once', async () => {
    const created = await admin('POST', '/admin/topics/news/broadcasts', {
      pageId: NOW_PAGE_ID,
      message: { text: 'Breaking news' },
      now: true,
    });
    await settled(runtime);

    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ queued: EARLY.length, broadcast: { state: 'sending' } });
    const createdAt = Date.parse(created.body.broadcast.createdAt);
    for (const { psid } of EARLY) {
      const got = sentTo(psid, NOW_PAGE_ID).filter(
        (entry) => entry.message.text === 'Breaking news',
      );
      expect(got, psid).toHaveLength(1);
      expect((got[0]?.at ?? 0) - createdAt, psid).toBeLessThan(60_000);
    }
  });
});
