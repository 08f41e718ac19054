import { mapWithConcurrency } from '#lib/concurrency.ts';
import { nextSlotAfter } from '#lib/domain/slots.ts';
import type { Topic } from '#lib/domain/topic.ts';
import type { Log } from '#lib/log.ts';
import { freePort } from '../local/emulators.ts';
import { startMetaSimulator } from '../local/meta-simulator/index.ts';
import { personKey } from '../local/meta-simulator/model-state.ts';
import { createOrganicTraffic } from '../local/meta-simulator/organic-traffic.ts';
import { startRuntime } from '../local/runtime.ts';
import { allowedSends, type TruthEvent } from './rules-allowed.ts';
import {
  AD_ACCOUNT,
  CAMPAIGN,
  DAY_MS,
  MM_PAGE,
  PAGES,
  type Person,
  population,
  TOPICS,
} from './rules-world.ts';

/**
 * The whole stack of the `rules` benchmark: `npm start`'s runtime (DynamoDB Local, fauxqs, the
 * handlers, the schedules) and the Meta simulator over HTTP, on the runtime's virtual clock moved
 * from one quarter hour where something is due to the next (three hours at most). People opt in through the real flow (they write, the admin API asks,
 * they accept), then stop, resume, move and opt out of MM as `rules-world.ts` plans.
 */

export interface StackOptions {
  people: number;
  days: number;
  seed: number;
}

/** The fan-out's schedule: every quarter hour. */
const STEP_MS = 15 * 60_000;
/**
 * Between steps the runtime clock runs twice as fast as real time: the sender paces each Page at
 * 20 sends/s on that clock (and the simulator counts Meta's 40/s on it too), so pacing is not
 * the bound of the run; what bounds it is the work of each send on DynamoDB Local.
 */
const CLOCK_SPEED = 2;
/** The longest step: the reconcile's hourly tick and webhooks due meanwhile wait at most this. */
const MAX_STEP_MS = 3 * 60 * 60_000;
const ADMIN_TOKEN = 'rules-admin-token';
const ORGANIC = { minPerDay: 1, maxPerDay: 30, silentShare: 0.02 };

/** Topic ids are global in the admin API: each Page's topics get its id in front. */
const topicIdOf = (pageId: string, topicId: string) => `${pageId}-${topicId}`;
const STACK_TOPICS: Topic[] = TOPICS.map((topic) => ({
  ...topic,
  topicId: topicIdOf(topic.pageId, topic.topicId),
}));

/** Runs the period on the whole stack and measures it. */
export async function runStack(options: StackOptions) {
  const began = performance.now();
  const start = Date.parse('2026-01-04T00:00:00Z');
  const end = start + options.days * DAY_MS;
  const simulatorPort = await freePort();
  const outcomes: Record<string, number> = {};
  const runtime = await startRuntime({
    port: await freePort(),
    appSecret: 'rules-app-secret',
    verifyToken: 'rules-verify',
    adminToken: ADMIN_TOKEN,
    graphUrl: `http://127.0.0.1:${simulatorPort}`,
    graphVersion: 'v24.0',
    clockStart: start - DAY_MS,
    clockSpeed: CLOCK_SPEED,
    log: countingLog(outcomes),
    tableName: `rules-${Date.now()}`,
    // Steps skip the quarters where nothing is due: one fan-out run per schedule covers them.
    scheduleCatchUp: 'latest-run',
  });
  const organic = { seed: options.seed, ...ORGANIC };
  const simulator = await startMetaSimulator({
    clock: runtime.clock,
    realNow: runtime.clock.now,
    appSecret: 'rules-app-secret',
    webhookUrl: `${runtime.url}/webhook`,
    port: simulatorPort,
    organicTraffic: organic,
    marketingStatus: { readProbability: 0.3 },
  });
  try {
    const admin = adminClient(runtime.url);
    await register(admin, simulator, start);
    const people = population(options.people, start, options.days, options.seed);
    const truth: TruthEvent[] = [];
    const steps = people
      .flatMap((person) => person.plan.map(({ at, action }) => ({ at, person, action })))
      .sort((a, b) => a.at - b.at);
    const zones = new Map(people.map((person) => [person.psid, person.zone]));
    for (const person of people) {
      simulator.addPerson({ pageId: person.pageId, psid: person.psid, timezone: person.zone });
    }
    const optIn = async (person: Person) => {
      simulator.personWrites(person.pageId, person.psid);
      await simulator.settle({ dueOnly: true });
      for (const topicId of person.topics) {
        await admin('POST', `/admin/topics/${topicIdOf(person.pageId, topicId)}/optin-requests`, {
          psid: person.psid,
        });
      }
      record(truth, person, zones, person.topics, true, runtime.clock.now());
    };
    let next = 0;
    const phases = phaseTimer();
    let day = -1;
    const slots = slotTimes(people, start, end);
    let wakeAt: number | undefined;
    for (let at = start; at < end; at = nextStep(at, start, [steps[next]?.at, slots(at), wakeAt])) {
      await phases.time('clock and schedules', () => moveClock(admin, at));
      const due: typeof steps = [];
      while (steps[next] && (steps[next]?.at ?? end) <= at)
        due.push(steps[next++] as (typeof steps)[0]);
      await phases.time('people', () =>
        mapWithConcurrency(due, 8, async ({ person, action }) => {
          const { pageId, psid } = person;
          if (action.kind === 'optin') return optIn(person);
          if (action.kind === 'zone') {
            zones.set(psid, action.zone);
            simulator.updatePerson(pageId, psid, { timezone: action.zone });
            return optIn(person);
          }
          if (action.kind === 'stop')
            simulator.personStops(pageId, psid, topicIdOf(pageId, action.topicId));
          if (action.kind === 'resume')
            simulator.personResumes(pageId, psid, topicIdOf(pageId, action.topicId));
          if (action.kind === 'optout') simulator.personOptsOut(pageId, psid);
          const concerned = action.kind === 'optout' ? person.topics : [action.topicId];
          record(truth, person, zones, concerned, action.kind === 'resume', runtime.clock.now());
        }),
      );
      await phases.time('webhooks', () => simulator.settle({ dueOnly: true }));
      wakeAt = (await phases.time('sending', () => idle(runtime))).nextWakeAt;
      if (Math.floor((at - start) / DAY_MS) > day) {
        day = Math.floor((at - start) / DAY_MS);
        const seconds = Math.round((performance.now() - began) / 1000);
        process.stderr.write(`  ${new Date(at).toISOString().slice(0, 16)} after ${seconds} s\n`);
      }
    }
    const counters = simulator.counters();
    const allowed = allowedSends({
      truth: truth.map((event) => ({ ...event, topicId: topicIdOf(event.pageId, event.topicId) })),
      topics: STACK_TOPICS,
      marketingPages: new Set([MM_PAGE]),
      traffic: createOrganicTraffic(organic),
      personKey,
      end,
      outages: [],
    });
    const sent = {
      send_api: counters.acceptedByRoute.send_api ?? 0,
      marketing_messages: counters.acceptedByRoute.marketing_messages ?? 0,
    };
    const sentTotal = sent.send_api + sent.marketing_messages;
    const allowedTotal = allowed.send_api + allowed.marketing_messages;
    return {
      people: options.people,
      days: options.days,
      sent: { ...sent, total: sentTotal },
      allowed: { ...allowed, total: allowedTotal },
      ratio: allowedTotal === 0 ? 1 : Math.round((sentTotal / allowedTotal) * 10_000) / 10_000,
      refusedByRule: counters.refusedByRule,
      outcomes,
      runSeconds: Math.round((performance.now() - began) / 100) / 10,
      phaseSeconds: phases.seconds(),
    };
  } finally {
    await simulator.stop();
    await runtime.stop();
  }
}

type Admin = (method: string, path: string, body?: unknown) => Promise<unknown>;

/** The two Pages and six topics, at Meta (the simulator) and through the admin API. */
async function register(
  admin: Admin,
  simulator: Awaited<ReturnType<typeof startMetaSimulator>>,
  start: number,
) {
  for (const page of PAGES) {
    const marketing = page.pageId === MM_PAGE;
    simulator.addPage({
      id: page.pageId,
      accessToken: page.accessToken,
      timezone: page.timezone,
      ...(marketing && { adAccountId: AD_ACCOUNT, systemUserToken: page.accessToken }),
    });
    await admin('PUT', `/admin/pages/${page.pageId}`, {
      accessToken: page.accessToken,
      timezone: page.timezone,
      deliveryRoute: page.deliveryRoute,
      ratePerSecond: page.ratePerSecond,
      ...(marketing && { adAccountId: AD_ACCOUNT, campaignId: CAMPAIGN }),
    });
  }
  simulator.addCampaign({
    adAccountId: AD_ACCOUNT,
    pageId: MM_PAGE,
    id: CAMPAIGN,
    createdAt: start - 2 * DAY_MS,
  });
  for (const { topicId, ...topic } of STACK_TOPICS)
    await admin('PUT', `/admin/topics/${topicId}`, topic);
}

function record(
  truth: TruthEvent[],
  person: Person,
  zones: Map<string, string>,
  topics: readonly string[],
  active: boolean,
  at: number,
) {
  for (const topicId of topics) {
    truth.push({
      at,
      pageId: person.pageId,
      psid: person.psid,
      topicId,
      active,
      zone: zones.get(person.psid) ?? 'UTC',
    });
  }
}

async function moveClock(admin: Admin, at: number) {
  await admin('POST', '/_local/clock', { now: new Date(at).toISOString() });
}

/**
 * Waits until nothing is queued but put-backs for later on the clock, and returns where the
 * pipeline stands then; polls, never a fixed sleep.
 */
async function idle(runtime: Awaited<ReturnType<typeof startRuntime>>) {
  for (;;) {
    const state = await runtime.pipeline();
    if (state.idle) return state;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * The next step after `at`: the first quarter hour (the fan-out's schedule) at or after the next
 * thing due (a person's action, a slot of any topic in any zone, a put-back's time), three
 * hours at most. Quarters where nothing is due are skipped: stepping through them cost most of the run.
 */
function nextStep(at: number, start: number, due: readonly (number | undefined)[]): number {
  const onGrid = (instant: number) => start + Math.ceil((instant - start) / STEP_MS) * STEP_MS;
  const candidates = due
    .filter((instant): instant is number => instant !== undefined && instant > at)
    .map(onGrid);
  return Math.min(at + MAX_STEP_MS, ...candidates);
}

/**
 * The slots of every topic in every zone the people live in over the run (zone changes
 * included), sorted; the function gives the first after an instant.
 */
function slotTimes(people: readonly Person[], start: number, end: number) {
  const zones = new Set(
    people.flatMap((person) => [
      person.zone,
      ...person.plan.flatMap(({ action }) => (action.kind === 'zone' ? [action.zone] : [])),
    ]),
  );
  const times = new Set<number>();
  for (const topic of STACK_TOPICS) {
    for (const zone of zones) {
      for (let slot = nextSlotAfter(topic, zone, start - 1); slot < end; ) {
        times.add(slot);
        slot = nextSlotAfter(topic, zone, slot);
      }
    }
  }
  const sorted = [...times].sort((a, b) => a - b);
  let index = 0;
  return (after: number): number | undefined => {
    while (index < sorted.length && (sorted[index] ?? end) <= after) index++;
    return sorted[index];
  };
}

function adminClient(baseUrl: string): Admin {
  return async (method, path, body) => {
    const answer = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await answer.text();
    if (!answer.ok) throw new Error(`${method} ${path} answered ${answer.status}: ${text}`);
    return text === '' ? undefined : JSON.parse(text);
  };
}

/** A log that counts the sender's outcomes by reason (skipped, deferred, refused by Meta, failed). */
function countingLog(outcomes: Record<string, number>): Log {
  const count = (key: string) => {
    outcomes[key] = (outcomes[key] ?? 0) + 1;
  };
  const read = (message: string, extra?: Record<string, unknown>) => {
    if (message === 'send job skipped') count(`skipped:${String(extra?.reason)}`);
    else if (message === 'send job deferred') count(`deferred:${String(extra?.reason)}`);
    else if (message === 'meta refused a send') count(`meta-refused:${String(extra?.outcome)}`);
    else if (message === 'send failed') count('failed');
  };
  return { debug: read, info: read, warn: read, error: read };
}

/** Real time spent per phase of the steps, to see where a run's time goes. */
function phaseTimer() {
  const spent = new Map<string, number>();
  return {
    async time<T>(phase: string, work: () => Promise<T>): Promise<T> {
      const began = performance.now();
      try {
        return await work();
      } finally {
        spent.set(phase, (spent.get(phase) ?? 0) + performance.now() - began);
      }
    },
    seconds: () =>
      Object.fromEntries([...spent].map(([phase, ms]) => [phase, Math.round(ms / 100) / 10])),
  };
}
