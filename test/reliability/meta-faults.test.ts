import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MetaSimulator, startMetaSimulator } from '../../local/meta-simulator/index.ts';
import {
  aSecret,
  eventually,
  type Harness,
  leakedSecrets,
  startHarness,
} from './support/harness.ts';
import { createPrng, seedFromEnv } from './support/prng.ts';

/**
 * Issue 9, scenario 3: a daily run for 200 people while Meta answers 20 % of sends with a 5xx,
 * lets 5 % hang past the sender's timeout (Meta still acts on them), throws bursts of 613 with
 * `estimated_time_to_regain_access`, and refuses some tokens as still cooling down. Every due
 * subscriber must end sent exactly once, or deferred or failed with a logged reason; none sent
 * twice, none missing without a word.
 */
const SEED = seedFromEnv();
const random = createPrng(SEED);
const PAGE_ID = '5001';
const PEOPLE = 200;
const COOLING_TOKENS = 10;
const START = Date.parse('2026-11-23T07:50:00Z');
const RUN = Date.parse('2026-11-23T08:00:00Z');
/** The sender gives up on a Graph answer after this; the simulator hangs longer. */
const GRAPH_TIMEOUT_MS = 1_000;
const HANG_MS = 1_500;

const pageToken = aSecret('faults-page-token');
const appSecret = aSecret('faults-app-secret');
let harness: Harness;
let simulator: MetaSimulator;
const people: { psid: string; token: string }[] = [];

beforeAll(async () => {
  // Meta is a simulator of this test's own, so its faults draw from the seeded generator; it
  // reads the runtime's clock once the runtime is up.
  let now: () => number = () => START;
  simulator = await startMetaSimulator({
    clock: { now: () => now() },
    appSecret,
    random: random.next,
    faults: { routes: ['send_api'] },
  });
  harness = await startHarness('reliability-faults', {
    clockStart: START,
    appSecret,
    graphUrl: simulator.url,
    graphTimeoutMs: GRAPH_TIMEOUT_MS,
  });
  now = harness.runtime.clock.now;
  simulator.setWebhookUrl(`${harness.runtime.url}/webhook`);
  simulator.addPage({ id: PAGE_ID, accessToken: pageToken, timezone: 'Europe/Paris' });
  expect(
    (
      await harness.admin('PUT', `/admin/pages/${PAGE_ID}`, {
        accessToken: pageToken,
        timezone: 'Europe/Paris',
        ratePerSecond: 40,
      })
    ).status,
  ).toBe(200);
  expect(
    (
      await harness.admin('PUT', '/admin/topics/daily', {
        pageId: PAGE_ID,
        title: 'Daily deals',
        cadence: 'DAILY',
        sendTime: '09:00',
        message: { text: 'Today only' },
      })
    ).status,
  ).toBe(200);
  for (let i = 0; i < PEOPLE; i++) {
    const { psid } = simulator.addPerson({ pageId: PAGE_ID, timezone: 'Europe/Paris' });
    const { token } = simulator.seedToken({
      pageId: PAGE_ID,
      psid,
      topicId: 'daily',
      title: 'Daily deals',
      createdAt: START - 86_400_000,
      announce: true,
    });
    people.push({ psid, token });
  }
  await simulator.settle({ timeoutMs: 60_000 });
}, 120_000);

afterAll(async () => {
  await harness?.stop();
  await simulator?.stop();
});

/** What became of one subscriber, from Meta's record and the runtime's own log lines. */
type Fate =
  | { kind: 'sent'; times: number }
  | { kind: 'counted-as-sent' }
  | { kind: 'deferred'; reason: string }
  | { kind: 'failed'; reason: string }
  | { kind: 'skipped'; reason: string }
  | { kind: 'unknown' };

/** The sender's log lines that say what became of a job. */
const OUTCOMES = new Set(['sent', 'send job deferred', 'send failed', 'send job skipped']);

function fates(): Map<string, Fate> {
  const sends = new Map<string, number>();
  for (const sent of simulator.sent()) {
    if (sent.token !== undefined) sends.set(sent.token, (sends.get(sent.token) ?? 0) + 1);
  }
  const last = new Map<string, Record<string, unknown>>();
  for (const entry of harness.log.entries) {
    if (typeof entry.psid === 'string' && OUTCOMES.has(String(entry.message))) {
      last.set(entry.psid, entry);
    }
  }
  return new Map(
    people.map(({ psid, token }): [string, Fate] => {
      const times = sends.get(token) ?? 0;
      if (times > 0) return [psid, { kind: 'sent', times }];
      const entry = last.get(psid);
      // The request left and no answer came: Meta may have refused it, the sender cannot know.
      if (entry?.message === 'sent' && entry.confirmed === false)
        return [psid, { kind: 'counted-as-sent' }];
      if (entry?.message === 'send job deferred')
        return [psid, { kind: 'deferred', reason: String(entry.reason) }];
      if (entry?.message === 'send failed')
        return [psid, { kind: 'failed', reason: String(entry.reason) }];
      if (entry?.message === 'send job skipped')
        return [psid, { kind: 'skipped', reason: String(entry.reason) }];
      return [psid, { kind: 'unknown' }];
    }),
  );
}

/** Settled: sent, or held back for hours (Meta's cooldown), or failed for good. */
function settled(fate: Fate): boolean {
  return (
    fate.kind === 'sent' ||
    fate.kind === 'counted-as-sent' ||
    fate.kind === 'failed' ||
    (fate.kind === 'deferred' && fate.reason === 'meta-cooldown')
  );
}

describe('Meta faults during a run', () => {
  it(`end with every due subscriber sent once, or deferred or failed with a reason (seed ${SEED})`, async () => {
    simulator.setFaults({
      serverErrorRate: 0.2,
      timeoutRate: 0.05,
      hangMs: HANG_MS,
      routes: ['send_api'],
    });
    const cooling = random.shuffle(people).slice(0, COOLING_TOKENS);
    for (const { token } of cooling) {
      simulator.injectError({ token, code: 4, subcode: 2018354, times: 1 });
    }
    simulator.rateLimitBurst({ pageId: PAGE_ID, calls: 15, regainMinutes: 2 });

    let clockAt = RUN + 5 * 60_000;
    await harness.moveClock(clockAt);
    let secondBurst = false;
    let lastCount = -1;
    const deadline = Date.now() + 150_000;
    while (Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const count = simulator.sent().length;
      if (!secondBurst && count >= PEOPLE / 2) {
        simulator.rateLimitBurst({ pageId: PAGE_ID, calls: 10, regainMinutes: 3 });
        secondBurst = true;
      }
      if ([...fates().values()].every(settled)) break;
      // Nothing moved for a second: what waits is waiting on the clock (backoff, regain time),
      // which may move well within the 6 h after which jobs go stale.
      if (count === lastCount && clockAt < RUN + 4 * 3_600_000) {
        clockAt += 4 * 60_000;
        await harness.moveClock(clockAt);
      }
      lastCount = count;
    }
    // A second send of anything would come before the pipeline is idle: once it is (nothing
    // runs, every job left waits hours on the clock for Meta's cooldown), the fates are final.
    // A job that failed for good is not visible until its visibility timeout (minutes of real
    // time) runs out, and comes back only to fail again: it counts as waiting too.
    const idle = await eventually(async () => {
      const failed = [...fates().values()].filter((fate) => fate.kind === 'failed').length;
      const state = await harness.runtime.pipeline();
      return (
        state.idle ||
        (state.batchesRunning === 0 &&
          state.fanoutsRunning === 0 &&
          state.visible === 0 &&
          state.delayed === 0 &&
          state.notVisible <= state.waitingOnClock + failed)
      );
    }, 60_000);

    const final = [...fates().values()];
    const tally = (kind: Fate['kind']) => final.filter((fate) => fate.kind === kind).length;
    const counters = simulator.counters();
    console.info(
      `meta faults (seed ${SEED}): ${tally('sent')} sent, ${tally('counted-as-sent')} counted as sent after a timeout, ${tally('deferred')} deferred, ${tally('failed')} failed, ${tally('unknown')} unaccounted; Meta: ${JSON.stringify(counters)}; clock moved to ${new Date(clockAt).toISOString()}`,
    );
    expect(idle).toBe(true);
    expect(secondBurst).toBe(true);
    expect(simulator.rateLimitErrors()).toBeGreaterThan(0);
    expect(final.filter((fate) => fate.kind === 'sent' && fate.times > 1)).toEqual([]);
    expect(final.filter((fate) => !settled(fate))).toEqual([]);
    // Meta refused their first send: none is tried again within the run (a refusal lost in a
    // timeout was counted as sent; one that failed before Meta saw it waits like any other).
    expect(
      cooling
        .map(({ psid }) => fates().get(psid))
        .filter((fate) => fate?.kind === 'sent' || fate?.kind === 'skipped'),
    ).toEqual([]);
    expect(tally('sent') + tally('counted-as-sent')).toBeGreaterThanOrEqual(
      PEOPLE - COOLING_TOKENS - tally('failed'),
    );
    expect(
      leakedSecrets([...harness.log.lines, ...harness.answers.map((answer) => answer.text)], {
        pageToken,
        appSecret: harness.secrets.appSecret,
        adminToken: harness.secrets.adminToken,
        ...Object.fromEntries(people.map(({ token }, i) => [`token ${i}`, token])),
      }),
    ).toEqual([]);
  }, 240_000);
});
