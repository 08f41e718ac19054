import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../local/emulators.ts';
import { type Runtime, startRuntime } from '../../local/runtime.ts';
import { captureLog } from '../support/capture-log.ts';
import { adminClient, moveClock, settled } from '../support/local-runtime.ts';

/**
 * Editions through `npm start`'s runtime and the Meta simulator: three days of a DAILY 09:00
 * topic on the Marketing Message route, subscribers in five zones either side of the date
 * line, editions for the first two days and `whenNoEdition: skip`: everyone gets exactly the
 * edition of their own local date, and nothing on the third day.
 */
const ADMIN_TOKEN = 'editions-e2e-admin';
const PAGE_ID = '7301';
const PAGE_TOKEN = 'editions-e2e-page-token';
// Monday 23 November 2026, 12:00 UTC: Kiritimati (UTC+14) is already on 24 November, but its
// 09:00 is still to come (19:00 UTC); Pago Pago (UTC-11) is on 23 November until 11:00 UTC on the 24th.
const START = Date.parse('2026-11-23T12:00:00Z');
const END = Date.parse('2026-11-27T12:00:00Z');
/** The clock moves this far at a time: each slot is sent well within the sender's 6 h staleness. */
const STEP = 3 * 3_600_000;
const ZONES = [
  'Pacific/Kiritimati',
  'Pacific/Chatham',
  'Europe/Paris',
  'America/St_Johns',
  'Pacific/Pago_Pago',
];
const PEOPLE = ZONES.flatMap((zone, i) => [
  { psid: `81${i}1`, zone },
  { psid: `81${i}2`, zone },
]);
const EDITIONS = { '2026-11-24': 'Tuesday: socks -30 %', '2026-11-25': 'Wednesday: hats -20 %' };

const log = captureLog();
let runtime: Runtime;

const admin = adminClient(() => runtime, ADMIN_TOKEN);

function simulator() {
  if (!runtime.simulator) throw new Error('the runtime runs without its simulator');
  return runtime.simulator;
}

beforeAll(async () => {
  runtime = await startRuntime({
    port: await freePort(),
    appSecret: 'editions-e2e-secret',
    verifyToken: 'editions-e2e-verify',
    adminToken: ADMIN_TOKEN,
    graphVersion: 'v24.0',
    clockStart: START,
    clockSpeed: 1,
    log,
    tableName: `editions-e2e-${Date.now()}`,
    useRunningEmulators: true,
    simulatorMarketingStatus: { delayMs: 60_000, readProbability: 1, clickProbability: 1 },
  });
  const page = await admin('PUT', `/admin/pages/${PAGE_ID}`, {
    accessToken: PAGE_TOKEN,
    timezone: 'Europe/Paris',
    deliveryRoute: 'marketing_messages',
    adAccountId: '889',
    campaignId: `${PAGE_ID}000`,
  });
  expect(page.status).toBe(200);
  const topic = await admin('PUT', '/admin/topics/deals', {
    pageId: PAGE_ID,
    title: 'Deal of the day',
    cadence: 'DAILY',
    sendTime: '09:00',
    message: { text: 'Our deals' },
    whenNoEdition: 'skip',
  });
  expect(topic.status).toBe(200);
  for (const [date, text] of Object.entries(EDITIONS)) {
    const edition = await admin('PUT', `/admin/topics/deals/editions/${date}`, {
      pageId: PAGE_ID,
      message: { text },
    });
    expect(edition.status).toBe(200);
  }
  for (const { psid, zone } of PEOPLE) {
    simulator().addPerson({ pageId: PAGE_ID, psid, timezone: zone });
    simulator().seedToken({
      pageId: PAGE_ID,
      psid,
      topicId: 'deals',
      title: 'Deal of the day',
      announce: true,
    });
  }
  await simulator().settle();
}, 60_000);

afterAll(async () => {
  await runtime?.stop();
});

describe('editions end to end', () => {
  it('sends everyone the edition of their local date, and nothing on a date without one', async () => {
    for (let at = START + STEP; at <= END; at += STEP) {
      await moveClock(runtime, at);
      await settled(runtime);
    }

    const sent = simulator()
      .sent()
      .filter((entry) => entry.pageId === PAGE_ID);
    const received = Object.fromEntries(
      PEOPLE.map(({ psid }) => [
        psid,
        sent.filter((entry) => entry.psid === psid).map((entry) => entry.message.text),
      ]),
    );
    expect(received).toEqual(
      Object.fromEntries(PEOPLE.map(({ psid }) => [psid, Object.values(EDITIONS)])),
    );
    expect(sent.every((entry) => entry.route === 'marketing_messages')).toBe(true);
  }, 240_000);

  it("counts each edition's sends and Meta's statuses of them", async () => {
    const results = async () =>
      (
        await admin(
          'GET',
          `/admin/stats?pageId=${PAGE_ID}&topicId=deals&from=2026-11-23&to=2026-11-26`,
        )
      ).body.editions as { date: string; sent: number; clicked: number }[];
    const deadline = Date.now() + 30_000;
    while ((await results()).some((entry) => entry.clicked < PEOPLE.length)) {
      if (Date.now() > deadline) throw new Error('the statuses never all came');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }

    expect(await results()).toEqual(
      Object.keys(EDITIONS).map((date) =>
        expect.objectContaining({
          date,
          sent: PEOPLE.length,
          delivered: PEOPLE.length,
          read: PEOPLE.length,
          clicked: PEOPLE.length,
          failed: 0,
        }),
      ),
    );
  });

  it('shows each edition as sent, and refuses to change one that went out', async () => {
    const listed = await admin(
      'GET',
      `/admin/topics/deals/editions?pageId=${PAGE_ID}&from=2026-11-23&to=2026-11-26`,
    );
    const change = await admin('PUT', '/admin/topics/deals/editions/2026-11-24', {
      pageId: PAGE_ID,
      message: { text: 'changed' },
    });

    expect(listed.body.items.map((item: { date: string }) => item.date)).toEqual(
      Object.keys(EDITIONS),
    );
    // The first send of 24 November is Kiritimati's 09:00, 19:00 UTC on the 23rd.
    expect(listed.body.items[0].firstSentAt >= '2026-11-23T19:00:00.000Z').toBe(true);
    expect(change.status).toBe(409);
    expect(
      log.entries.filter((entry) => entry.message === 'slots skipped: no edition'),
    ).not.toEqual([]);
  });
});
