import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixedClock } from '#lib/clock.ts';
import { parseDelivery } from '#lib/domain/intake/meta-webhook.ts';
import { classifyMetaError } from '#lib/domain/meta-errors.ts';
import { graphClient } from '#lib/graph/graph-client.ts';
import { signatureMatches } from '#lib/http/meta-signature.ts';
import {
  type MetaSimulator,
  type MetaSimulatorOptions,
  startMetaSimulator,
} from '../../local/meta-simulator/index.ts';

const APP_SECRET = 'simulator-app-secret';
const NOW = Date.parse('2026-11-21T09:00:00Z');
const PAGE = '1001';
const PAGE_TOKEN = 'page-token-1001';
const AD_ACCOUNT = '777';
const SYSTEM_TOKEN = 'system-user-token';
const VERSION = 'v24.0';

/** What our /webhook stand-in received: the raw bytes and whether Meta's signatures match them. */
interface Received {
  raw: Buffer;
  sha256Valid: boolean;
  sha1Valid: boolean;
}

/** A small node:http server standing in for our /webhook; answers from a script, then 200. */
async function startReceiver() {
  const received: Received[] = [];
  const script: { status: number; delayMs?: number }[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const sha256 = req.headers['x-hub-signature-256'];
      const sha1 = req.headers['x-hub-signature'];
      received.push({
        raw,
        sha256Valid:
          typeof sha256 === 'string' && signatureMatches(raw, sha256, 'sha256', APP_SECRET),
        sha1Valid: typeof sha1 === 'string' && signatureMatches(raw, sha1, 'sha1', APP_SECRET),
      });
      const step = script.shift() ?? { status: 200 };
      setTimeout(() => {
        if (!res.destroyed) res.writeHead(step.status).end('ok');
      }, step.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhook`,
    received,
    /** Answers of the next deliveries, in order. */
    answer: (...steps: { status: number; delayMs?: number }[]) => script.push(...steps),
    /** Every event of every delivery, parsed as our webhook parses them. */
    events: () => received.flatMap((entry) => parseDelivery(entry.raw.toString('utf8')).events),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let receiver: Awaited<ReturnType<typeof startReceiver>>;
let sim: MetaSimulator;
let clock: ReturnType<typeof fixedClock>;

async function start(options: Partial<MetaSimulatorOptions> = {}) {
  sim = await startMetaSimulator({
    clock,
    appSecret: APP_SECRET,
    webhookUrl: receiver.url,
    pages: [
      {
        id: PAGE,
        accessToken: PAGE_TOKEN,
        timezone: 'Europe/Paris',
        adAccountId: AD_ACCOUNT,
        systemUserToken: SYSTEM_TOKEN,
      },
    ],
    webhooks: { backoffMs: 20, maxBackoffMs: 100 },
    marketingStatus: { delayMs: 0, readProbability: 1 },
    ...options,
  });
  return sim;
}

beforeEach(async () => {
  clock = fixedClock(NOW);
  receiver = await startReceiver();
});

afterEach(async () => {
  await sim.stop();
  await receiver.close();
});

interface GraphAnswer {
  status: number;
  json: Record<string, unknown>;
  headers: Headers;
}

async function graph(
  method: 'GET' | 'POST',
  path: string,
  options: { body?: unknown; accessToken?: string; bearer?: string; signal?: AbortSignal } = {},
): Promise<GraphAnswer> {
  const url = new URL(`${sim.url}/${VERSION}/${path}`);
  if (options.accessToken !== undefined) url.searchParams.set('access_token', options.accessToken);
  const response = await fetch(url, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(options.bearer !== undefined && { authorization: `Bearer ${options.bearer}` }),
    },
    ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
    ...(options.signal !== undefined && { signal: options.signal }),
  });
  return {
    status: response.status,
    json: (await response.json()) as Record<string, unknown>,
    headers: response.headers,
  };
}

function optInRequest(psid: string, title = 'Daily deals', payload = 'daily-deals') {
  return graph('POST', `${PAGE}/messages`, {
    accessToken: PAGE_TOKEN,
    body: {
      recipient: { id: psid },
      message: {
        attachment: {
          type: 'template',
          payload: {
            template_type: 'notification_messages',
            title,
            payload,
            notification_messages_cta_text: 'GET_UPDATES',
            notification_messages_timezone: 'Europe/Paris',
            notification_messages_frequency: 'DAILY',
            notification_messages_reoptin: 'ENABLED',
          },
        },
      },
    },
  });
}

function legacySend(token: string, accessToken = PAGE_TOKEN) {
  return graph('POST', `${PAGE}/messages`, {
    accessToken,
    body: {
      recipient: { notification_messages_token: token },
      message: { text: 'Deal of the day' },
    },
  });
}

/** A person who wrote and opted in to `payload`; returns the token from the webhook. */
async function anOptedInPerson(payload = 'daily-deals') {
  const { psid } = sim.addPerson({ pageId: PAGE, timezone: 'Asia/Kolkata' });
  sim.personWrites(PAGE, psid);
  await optInRequest(psid, `Title ${payload}`, payload);
  await sim.settle();
  const event = receiver
    .events()
    .find((e) => e.kind === 'optin' && e.psid === psid && e.topicId === payload);
  if (event?.kind !== 'optin') throw new Error('no opt-in webhook arrived');
  return { psid, token: event.token };
}

/** Waits until `done` holds; fails the test after `timeoutMs`. */
async function until(done: () => boolean, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('the awaited state never came');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function errorOf(answer: GraphAnswer) {
  return answer.json.error as Record<string, unknown>;
}

function businessUsage(answer: GraphAnswer) {
  return JSON.parse(answer.headers.get('x-business-use-case-usage') ?? 'null');
}

describe('webhooks', () => {
  it('delivers a signed messages webhook when a person writes', async () => {
    await start();
    sim.addPerson({ pageId: PAGE, psid: '5001' });

    sim.personWrites(PAGE, '5001', 'hello');
    await sim.settle();

    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]).toMatchObject({ sha256Valid: true, sha1Valid: true });
    expect(receiver.events()).toEqual([
      {
        kind: 'inbound',
        pageId: PAGE,
        psid: '5001',
        timestamp: NOW,
        messageId: expect.stringMatching(/^m_/),
      },
    ]);
  });

  it('signs the escaped bytes it sends for titles outside ASCII', async () => {
    await start();
    sim.addPerson({ pageId: PAGE, psid: '5001', timezone: 'Europe/Berlin' });
    sim.personWrites(PAGE, '5001');
    await sim.settle();

    await optInRequest('5001', 'Tägliche Angebote 🔥', 'taegliche-angebote');
    await sim.settle();

    const raw = receiver.received[1]?.raw.toString('utf8') ?? '';
    expect(receiver.received[1]?.sha256Valid).toBe(true);
    expect(raw).toContain('T\\u00e4gliche Angebote \\ud83d\\udd25');
    expect(raw).toContain('Europe\\/Berlin');
    expect(raw).not.toContain('ä');
    expect(receiver.events()[1]).toMatchObject({
      kind: 'optin',
      title: 'Tägliche Angebote 🔥',
      timezone: 'Europe/Berlin',
    });
  });

  it('batches the events pending for a Page into one delivery', async () => {
    await start();
    const people = ['5001', '5002', '5003'].map((psid) => sim.addPerson({ pageId: PAGE, psid }));

    for (const { psid } of people) sim.personWrites(PAGE, psid);
    await sim.settle();

    expect(receiver.received).toHaveLength(1);
    expect(
      JSON.parse(receiver.received[0]?.raw.toString() ?? '{}').entry[0].messaging,
    ).toHaveLength(3);
  });

  it('retries a delivery our endpoint refused, with the same bytes, and records each attempt', async () => {
    await start();
    receiver.answer({ status: 500 }, { status: 503 });
    sim.addPerson({ pageId: PAGE, psid: '5001' });

    sim.personWrites(PAGE, '5001');
    await sim.settle();

    const [delivery] = sim.deliveries();
    expect(delivery?.state).toBe('delivered');
    expect(delivery?.attempts.map((attempt) => attempt.status)).toEqual([500, 503, 200]);
    expect(new Set(receiver.received.map((entry) => entry.raw.toString()))).toEqual(
      new Set([delivery?.body]),
    );
  });

  it('retries a delivery our endpoint answered too slowly', async () => {
    await start({ webhooks: { timeoutMs: 300, backoffMs: 10 } });
    receiver.answer({ status: 200, delayMs: 2000 });
    sim.addPerson({ pageId: PAGE, psid: '5001' });

    sim.personWrites(PAGE, '5001');
    await sim.settle();

    expect(sim.deliveries()[0]?.attempts).toEqual([
      { at: NOW, error: 'timeout' },
      { at: NOW, status: 200 },
    ]);
  });

  it('gives up after the last attempt and unsubscribes the Page until resubscribed', async () => {
    await start({ webhooks: { maxAttempts: 2, backoffMs: 10 } });
    receiver.answer({ status: 500 }, { status: 500 });
    sim.addPerson({ pageId: PAGE, psid: '5001' });
    sim.personWrites(PAGE, '5001');
    await sim.settle();

    sim.personWrites(PAGE, '5001');
    await sim.settle();
    sim.resubscribe(PAGE);
    sim.personWrites(PAGE, '5001');
    await sim.settle();

    expect(sim.deliveries().map((delivery) => delivery.state)).toEqual([
      'failed',
      'dropped',
      'delivered',
    ]);
    expect(receiver.received).toHaveLength(3);
  });

  it.each([
    ['envelope', 'as entry changes'],
    ['bare', 'as bare objects, one body each'],
  ] as const)(
    'delivers marketing statuses %s (%s) once the clock reaches them',
    async (shape, _how) => {
      await start({
        marketingStatus: { delayMs: 60_000, readProbability: 1, clickProbability: 1, shape },
      });
      const { token } = await anOptedInPerson();
      const campaign = await graph('POST', `act_${AD_ACCOUNT}/message_campaign`, {
        bearer: SYSTEM_TOKEN,
        body: { name: 'Daily deals', page_id: PAGE },
      });

      const sent = await graph('POST', `act_${AD_ACCOUNT}/messages`, {
        bearer: SYSTEM_TOKEN,
        body: {
          message_id: campaign.json.id,
          messenger_delivery_data: { subscription_token: token },
          message: { text: 'Deal' },
        },
      });
      await sim.settle({ dueOnly: true });
      const before = receiver.events().filter((event) => event.kind === 'marketing-status');
      clock.set(NOW + 180_000);
      await sim.settle();

      const trackingId = sent.json.marketing_message_tracking_id;
      expect(sent.json).toEqual({
        success: true,
        marketing_message_tracking_id: expect.any(String),
      });
      expect(before).toEqual([]);
      const statuses = receiver.events().filter((event) => event.kind === 'marketing-status');
      expect(statuses).toEqual([
        {
          kind: 'marketing-status',
          pageId: PAGE,
          status: 'delivered',
          timestamp: NOW + 60_000,
          token,
          trackingId,
          campaignId: campaign.json.id,
        },
        {
          kind: 'marketing-status',
          pageId: PAGE,
          status: 'read',
          timestamp: NOW + 120_000,
          token,
          trackingId,
          campaignId: campaign.json.id,
        },
        {
          kind: 'marketing-status',
          pageId: PAGE,
          status: 'clicked',
          timestamp: NOW + 180_000,
          token,
          campaignId: campaign.json.id,
        },
      ]);
      expect(receiver.received.every((entry) => entry.sha256Valid)).toBe(true);
      const bodies = receiver.received.map((entry) => JSON.parse(entry.raw.toString('utf8')));
      const changes = bodies.flatMap((body) => body.entry?.[0]?.changes ?? []);
      const bare = bodies.filter((body) => body.object === undefined);
      expect([changes.length, bare.length]).toEqual(shape === 'envelope' ? [3, 0] : [0, 3]);
    },
  );
});

describe('the opt-in flow over HTTP', () => {
  it('answers the request, then delivers the opt-in with a token that sends work with', async () => {
    await start();
    sim.addPerson({ pageId: PAGE, psid: '5001', timezone: 'Asia/Kolkata' });
    sim.personWrites(PAGE, '5001');

    const answer = await optInRequest('5001');
    await sim.settle();

    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ recipient_id: '5001', message_id: expect.any(String) });
    const optin = receiver.events().find((event) => event.kind === 'optin');
    expect(optin).toMatchObject({
      pageId: PAGE,
      psid: '5001',
      topicId: 'daily-deals',
      timezone: 'Asia/Kolkata',
      tokenStatus: 'NOT_REFRESHED',
      timestamp: NOW,
    });
    const token = optin?.kind === 'optin' ? optin.token : '';
    expect((await legacySend(token)).json).toEqual({
      recipient_id: '5001',
      message_id: expect.any(String),
    });
  });

  it('refuses a request outside the 24 h window with error 10/2534022', async () => {
    await start();
    sim.addPerson({ pageId: PAGE, psid: '5001' });

    const answer = await optInRequest('5001');

    expect(answer.status).toBe(400);
    expect(errorOf(answer)).toEqual({
      message: expect.any(String),
      type: 'OAuthException',
      code: 10,
      error_subcode: 2534022,
      fbtrace_id: expect.stringMatching(/^[\w-]{11}$/),
    });
  });

  it('delivers stop and resume, and refuses sends in between with 10/1893015', async () => {
    await start();
    const { psid, token } = await anOptedInPerson();

    sim.personStops(PAGE, psid, 'daily-deals');
    const whileStopped = await legacySend(token);
    sim.personResumes(PAGE, psid, 'daily-deals');
    const afterResume = await legacySend(token);
    await sim.settle();

    expect(errorOf(whileStopped)).toMatchObject({ code: 10, error_subcode: 1893015 });
    expect(afterResume.status).toBe(200);
    expect(receiver.events().map((event) => event.kind)).toEqual([
      'inbound',
      'optin',
      'stop',
      'resume',
    ]);
  });
});

describe('sends', () => {
  it('answers a wrong or missing Page token with error 190', async () => {
    await start();
    const { token } = await anOptedInPerson();

    for (const answer of [await legacySend(token, 'wrong'), await legacySend(token, '')]) {
      expect(answer.status).toBe(400);
      expect(errorOf(answer)).toEqual({
        message: expect.any(String),
        type: 'OAuthException',
        code: 190,
        fbtrace_id: expect.any(String),
      });
    }
    expect(sim.sent()).toEqual([]);
    expect(sim.counters().rejected.auth).toBe(2);
  });

  it('refuses a second legacy send within 48 hours with 4/2018354 and takes it after', async () => {
    await start();
    const { token } = await anOptedInPerson();

    const first = await legacySend(token);
    clock.set(NOW + 47 * 3_600_000);
    const early = await legacySend(token);
    clock.set(NOW + 48 * 3_600_000);
    const due = await legacySend(token);

    expect([first.status, early.status, due.status]).toEqual([200, 400, 200]);
    expect(errorOf(early)).toMatchObject({ code: 4, error_subcode: 2018354 });
    expect(sim.sent().map((entry) => [entry.route, entry.token, entry.at])).toEqual([
      ['send_api', token, NOW],
      ['send_api', token, NOW + 48 * 3_600_000],
    ]);
    expect(sim.counters()).toMatchObject({ accepted: 2, rejected: { cooldown: 1 } });
  });

  it('takes form-encoded parameters as Graph does, and traces errors in a header too', async () => {
    await start();
    const { token } = await anOptedInPerson();
    const form = (text: string) =>
      fetch(`${sim.url}/${VERSION}/${PAGE}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          access_token: PAGE_TOKEN,
          recipient: JSON.stringify({ notification_messages_token: token }),
          message: JSON.stringify({ text }),
        }),
      });

    const accepted = await form('Deal');
    const refused = await form('Deal again');

    expect(accepted.status).toBe(200);
    expect(sim.sent()[0]?.message).toEqual({ text: 'Deal' });
    const body = (await refused.json()) as { error: { code: number; fbtrace_id: string } };
    expect(body.error.code).toBe(4);
    expect(refused.headers.get('x-fb-trace-id')).toBe(body.error.fbtrace_id);
  });

  it('answers a person who blocked the Page with 551', async () => {
    await start();
    const { psid, token } = await anOptedInPerson();

    sim.personBlocks(PAGE, psid);

    expect(errorOf(await legacySend(token))).toMatchObject({ code: 551, error_subcode: 1545041 });
  });

  it('carries usage headers on every answer, keyed by the Page', async () => {
    await start({ rateLimit: { perSecond: 50 }, realNow: () => 0 });
    const { token } = await anOptedInPerson();

    const answers = [await legacySend(token), await legacySend(token)];

    for (const answer of answers) {
      expect(JSON.parse(answer.headers.get('x-app-usage') ?? 'null')).toEqual({
        call_count: expect.any(Number),
        total_cputime: expect.any(Number),
        total_time: expect.any(Number),
      });
      expect(businessUsage(answer)).toEqual({
        [PAGE]: [
          {
            type: 'messenger',
            call_count: expect.any(Number),
            total_cputime: expect.any(Number),
            total_time: expect.any(Number),
            estimated_time_to_regain_access: 0,
          },
        ],
      });
    }
    expect(businessUsage(answers[1] as GraphAnswer)[PAGE][0].call_count).toBeGreaterThan(0);
  });

  it('is read by our Graph client as Meta would be, on both routes', async () => {
    await start();
    const { token } = await anOptedInPerson();
    const campaignId = sim.addCampaign({ adAccountId: AD_ACCOUNT, pageId: PAGE });
    const client = graphClient({ baseUrl: sim.url, version: VERSION, timeoutMs: 5000 });
    const legacy = {
      route: 'send_api',
      pageId: PAGE,
      accessToken: PAGE_TOKEN,
      token,
      message: { text: 'Deal' },
    } as const;
    const marketing = {
      route: 'marketing_messages',
      adAccountId: AD_ACCOUNT,
      campaignId,
      accessToken: SYSTEM_TOKEN,
      token,
      message: { text: 'Deal' },
    } as const;

    const results = [await client.send(legacy), await client.send(legacy)];
    clock.set(NOW + 72 * 3_600_000);
    results.push(await client.send(marketing), await client.send(marketing));

    expect(results.map((result) => result.kind)).toEqual([
      'accepted',
      'refused',
      'accepted',
      'refused',
    ]);
    const refusals = results.flatMap((result) =>
      result.kind === 'refused' && result.error ? [classifyMetaError(result.error)] : [],
    );
    // An early MM send is 2300035, Meta's MM cooldown (section 5), with remaining_seconds.
    expect(refusals).toEqual(['cooldown', 'cooldown']);
    expect(results[3]).toMatchObject({ error: { code: 2300035, remainingMs: 12 * 3_600_000 } });
    expect(results[2]).toMatchObject({ messageId: expect.any(String), usage: expect.any(Object) });
  });
});

describe('rate limits', () => {
  it('answers 613 with a wait in the business usage header past the per-second limit', async () => {
    // A frozen real-time source puts every call in the same second, however slow the machine.
    await start({ rateLimit: { perSecond: 3 }, realNow: () => 0 });
    const { psid } = await anOptedInPerson();
    sim.personWrites(PAGE, psid);

    const answers: GraphAnswer[] = [];
    for (let call = 0; call < 4; call++) {
      answers.push(await optInRequest(psid, `Topic ${call}`, `topic-${call}`));
    }

    // The opt-in of anOptedInPerson was the first call of the second.
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 400, 400]);
    expect(errorOf(answers[2] as GraphAnswer)).toMatchObject({ code: 613 });
    expect(businessUsage(answers[2] as GraphAnswer)[PAGE][0]).toMatchObject({
      call_count: 100,
      estimated_time_to_regain_access: 1,
    });
    expect(sim.rateLimitErrors()).toBe(2);
  });

  it('counts a call against the per-second limit when it arrives, not when its latency ends', async () => {
    let now = 0;
    const waits: (() => void)[] = [];
    await start({
      rateLimit: { perSecond: 1 },
      realNow: () => now,
      faults: { latencyMs: 50 },
      sleep: () => new Promise<void>((end) => waits.push(end)),
    });
    // Two calls arriving 1.1 s apart; the first one's latency timer fires only after the second
    // arrived, as on a busy event loop.
    const first = legacySend('any');
    await until(() => waits.length === 1);
    now = 1_100;
    const second = legacySend('any');
    await until(() => waits.length === 2);
    for (const end of waits) end();

    const answers = await Promise.all([first, second]);

    // Both reach the token check (code 100, an unknown token): neither is rate limited.
    expect(answers.map((answer) => errorOf(answer).code)).toEqual([100, 100]);
    expect(sim.rateLimitErrors()).toBe(0);
  });

  it('answers a burst of rate-limit errors for the next N calls, with the chosen code', async () => {
    await start({ rateLimit: { errorCode: 32 } });
    const { token } = await anOptedInPerson();

    sim.rateLimitBurst({ pageId: PAGE, calls: 2, regainMinutes: 5 });
    const answers = [await legacySend(token), await legacySend(token), await legacySend(token)];

    expect(answers.map((answer) => answer.status)).toEqual([400, 400, 200]);
    expect(errorOf(answers[0] as GraphAnswer)).toMatchObject({ code: 32 });
    expect(businessUsage(answers[1] as GraphAnswer)[PAGE][0].estimated_time_to_regain_access).toBe(
      5,
    );
  });
});

describe('faults', () => {
  it('answers a transient 5xx with code 2 and is_transient', async () => {
    await start({ faults: { serverErrorRate: 1, serverErrorStatus: 503 } });
    const answer = await legacySend('any');

    expect(answer.status).toBe(503);
    expect(errorOf(answer)).toEqual({
      message: 'Service temporarily unavailable',
      type: 'OAuthException',
      code: 2,
      is_transient: true,
      fbtrace_id: expect.any(String),
    });
    sim.setFaults({ serverErrorRate: 0 });
    expect(errorOf(await legacySend('any'))).toMatchObject({ code: 100 });
  });

  it('leaves a call unanswered past the client timeout but still sends the message', async () => {
    await start();
    const { token } = await anOptedInPerson();
    sim.setFaults({ timeoutRate: 1, hangMs: 5000 });

    await expect(
      graph('POST', `${PAGE}/messages`, {
        accessToken: PAGE_TOKEN,
        body: { recipient: { notification_messages_token: token }, message: { text: 'x' } },
        signal: AbortSignal.timeout(200),
      }),
    ).rejects.toThrow();
    sim.setFaults({ timeoutRate: 0 });

    expect(sim.sent()).toEqual([expect.objectContaining({ token, answered: false })]);
    expect(sim.counters().timeouts).toBe(1);
    expect(errorOf(await legacySend(token))).toMatchObject({ code: 4, error_subcode: 2018354 });
  });

  it('answers an injected error for a chosen token once', async () => {
    await start();
    const { token } = await anOptedInPerson();
    sim.injectError({ token, code: 10, subcode: 1893015, times: 1 });

    const answers = [await legacySend(token), await legacySend(token)];

    expect(errorOf(answers[0] as GraphAnswer)).toMatchObject({ code: 10, error_subcode: 1893015 });
    expect(answers[1]?.status).toBe(200);
    expect(sim.counters().rejected.injected).toBe(1);
  });

  it('counts refusals by rule apart from the errors, bursts and 5xx it injects', async () => {
    await start();
    const { token } = await anOptedInPerson();
    sim.injectError({ token, code: 10, subcode: 1893015, times: 1 });
    sim.rateLimitBurst({ pageId: PAGE, calls: 1 });

    const injected = [await legacySend(token), await legacySend(token)];
    sim.setFaults({ serverErrorRate: 1, serverErrorStatus: 503 });
    const serverError = await legacySend(token);
    sim.setFaults({ serverErrorRate: 0 });
    const sent = await legacySend(token);
    const early = await legacySend(token);

    expect([...injected, serverError, sent, early].map((answer) => answer.status)).toEqual([
      400, 400, 503, 200, 400,
    ]);
    expect(sim.counters().refusedByRule).toEqual({
      total: 1,
      byRule: { cooldown: 1 },
      firstFrequencyCaps: 0,
      firstOptOutRefusals: 0,
    });
  });

  it('waits the configured latency before answering', async () => {
    const waits: { ms: number; end: () => void }[] = [];
    await start({
      faults: { latencyMs: 150 },
      sleep: (ms) => new Promise<void>((end) => waits.push({ ms, end })),
    });
    let answered = false;
    const send = legacySend('any').then((answer) => {
      answered = true;
      return answer;
    });

    await until(() => waits.length > 0);
    // A call without latency is answered meanwhile; the waiting one is not.
    const health = await fetch(`${sim.url}/_simulator/health`);
    const answeredWhileWaiting = answered;
    for (const wait of waits) wait.end();
    const answer = await send;

    expect(waits.map((wait) => wait.ms)).toEqual([150]);
    expect(health.status).toBe(200);
    expect(answeredWhileWaiting).toBe(false);
    expect(errorOf(answer)).toMatchObject({ code: 100 });
  });
});

describe('token reads', () => {
  it('lists the Page tokens page by page with a next link', async () => {
    await start();
    const tokens = [
      (await anOptedInPerson('a')).token,
      (await anOptedInPerson('b')).token,
      (await anOptedInPerson('c')).token,
    ];

    const first = await graph('GET', `${PAGE}/notification_message_tokens?limit=2`, {
      accessToken: PAGE_TOKEN,
    });
    const paging = first.json.paging as { next: string; cursors: { after: string } };
    const second = await fetch(paging.next).then((response) => response.json());

    expect(
      (first.json.data as { notification_messages_token: string }[]).map(
        (node) => node.notification_messages_token,
      ),
    ).toEqual(tokens.slice(0, 2));
    expect(first.json.data).toContainEqual({
      notification_messages_token: tokens[0],
      recipient_id: expect.any(String),
      topic_title: 'Title a',
      creation_timestamp: NOW / 1000,
      user_token_status: 'NOT_REFRESHED',
      notification_messages_timezone: 'Asia/Kolkata',
      next_eligible_time: NOW / 1000,
    });
    expect(second).toEqual({
      data: [expect.objectContaining({ notification_messages_token: tokens[2] })],
      paging: { cursors: { after: expect.any(String) } },
    });
  });

  it('reads one token by its node id, with the Page token only', async () => {
    await start();
    const { psid, token } = await anOptedInPerson();

    const read = await graph('GET', `notification_messages_${token}`, { accessToken: PAGE_TOKEN });
    const denied = await graph('GET', `notification_messages_${token}`, {
      accessToken: SYSTEM_TOKEN,
    });

    expect(read.json).toMatchObject({
      notification_messages_token: token,
      recipient_id: psid,
      page_id: PAGE,
    });
    expect(errorOf(denied)).toMatchObject({ code: 190 });
  });
});
