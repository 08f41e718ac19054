import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapWithConcurrency } from '#lib/concurrency.ts';
import { signBody } from '#lib/http/meta-signature.ts';
import { fixtureText } from '../support/fixtures.ts';
import { aDelivery, anInboundMessage, anOptin } from '../support/meta-payloads.ts';
import { aSecret, type Harness, itemKeys, leakedSecrets, startHarness } from './support/harness.ts';
import { createPrng, seedFromEnv } from './support/prng.ts';

/**
 * Issue 9, scenario 2: hundreds of forged and malformed requests to the runtime's HTTP server.
 * Each gets the status README and the handlers document (401 bad or missing signature or
 * bearer, 400 malformed input, 413 too large, 405 wrong method, 404 unknown route, 403 a wrong
 * handshake), the rejected ones store nothing, accepted oddities store only what they say, and
 * the process stays up. No answer and no log line carries a secret.
 */
const SEED = seedFromEnv();
const random = createPrng(SEED);
const PAGE_ID = '8001';
const MAX_BODY = 4 * 1024 * 1024;
const START = Date.parse('2026-11-21T09:01:00Z');

interface Case {
  name: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  status: number;
}

let harness: Harness;
const pageToken = aSecret('bad-input-page-token');

beforeAll(async () => {
  // The clock starts just after a schedule boundary: no fan-out writes while the table is compared.
  harness = await startHarness('reliability-bad-input', { clockStart: START });
  expect(
    (await harness.admin('PUT', `/admin/pages/${PAGE_ID}`, { accessToken: pageToken })).status,
  ).toBe(200);
  expect(
    (
      await harness.admin('PUT', '/admin/topics/deals', {
        pageId: PAGE_ID,
        title: 'Deals',
        cadence: 'DAILY',
        sendTime: '09:00',
        message: { text: 'Deals' },
      })
    ).status,
  ).toBe(200);
});

afterAll(async () => {
  await harness?.stop();
});

/** Valid deliveries, signed or not below: real fixtures and generated ones. */
function deliveries(): string[] {
  return [
    fixtureText('webhooks/optin.json'),
    fixtureText('webhooks/stop-space.json'),
    fixtureText('webhooks/batch.json'),
    fixtureText('webhooks/escaped-unicode.json'),
    fixtureText('webhooks/marketing-statuses.json'),
    ...Array.from({ length: 5 }, (_, i) =>
      aDelivery([
        anOptin({
          pageId: PAGE_ID,
          psid: `forged-${i}`,
          topicId: 'deals',
          token: aSecret('forged-token'),
          timestamp: START - i,
        }),
        anInboundMessage({ pageId: PAGE_ID, psid: `forged-${i}`, timestamp: START }),
      ]),
    ),
  ];
}

const json = { 'content-type': 'application/json' };

/** Every way a signature can be wrong, for one body. */
function forgeries(body: string, index: number, all: readonly string[]): Case[] {
  const sign = (bytes: string | Buffer, secret = harness.secrets.appSecret) =>
    signBody(bytes, secret);
  const reserialised = JSON.stringify(JSON.parse(body));
  const hex = random.hex(64);
  const cases: [string, Record<string, string>][] = [
    ['no signature', {}],
    ['signed with another secret', { 'x-hub-signature-256': sign(body, 'not-the-app-secret') }],
    ['a random signature', { 'x-hub-signature-256': `sha256=${hex}` }],
    ['an empty signature', { 'x-hub-signature-256': 'sha256=' }],
    ['a signature that is not hex', { 'x-hub-signature-256': `sha256=${'zz'.repeat(32)}` }],
    ['the algorithm missing', { 'x-hub-signature-256': sign(body).slice('sha256='.length) }],
    ['half a signature', { 'x-hub-signature-256': sign(body).slice(0, 39) }],
    ['a sha1 signature under the sha256 name', { 'x-hub-signature-256': sha1(body) }],
    ['a wrong sha1 signature alone', { 'x-hub-signature': sha1(`${body} `) }],
    [
      'a good sha1 signature beside a wrong sha256 one',
      { 'x-hub-signature': sha1(body), 'x-hub-signature-256': `sha256=${hex}` },
    ],
    ['the signature of the body with a newline more', { 'x-hub-signature-256': sign(`${body}\n`) }],
    [
      'the signature of another delivery',
      { 'x-hub-signature-256': sign(all[(index + 1) % all.length] ?? '') },
    ],
  ];
  const out = cases.map(
    ([name, headers]): Case => ({
      name: `body ${index}: ${name}`,
      method: 'POST',
      path: '/webhook',
      headers: { ...json, ...headers },
      body,
      status: 401,
    }),
  );
  if (reserialised !== body) {
    out.push({
      name: `body ${index}: signed after being parsed and serialised again`,
      method: 'POST',
      path: '/webhook',
      headers: { ...json, 'x-hub-signature-256': sign(reserialised) },
      body,
      status: 401,
    });
  }
  return out;

  function sha1(bytes: string): string {
    return `sha1=${createHmac('sha1', harness.secrets.appSecret).update(bytes).digest('hex')}`;
  }
}

/** A signed POST to /webhook. */
function signed(name: string, body: string | Buffer, status: number, type = 'application/json') {
  return {
    name,
    method: 'POST',
    path: '/webhook',
    headers: {
      'content-type': type,
      'x-hub-signature-256': signBody(body, harness.secrets.appSecret),
    },
    body,
    status,
  };
}

function malformedWebhooks(): Case[] {
  const valid = deliveries();
  const truncated = valid.flatMap((body, i) =>
    [0.25, 0.5, 0.9].map((share) =>
      signed(
        `body ${i} cut at ${share * 100} %`,
        body.slice(0, Math.floor(body.length * share)),
        400,
      ),
    ),
  );
  const wrongTypes = [
    'null',
    '[]',
    '42',
    '"page"',
    'true',
    '{}',
    '{"object":5,"entry":[]}',
    '{"object":["page"],"entry":[]}',
    '{"object":"page","entry":"x"}',
    '{"object":"page","entry":{}}',
    '{"object":"page","entry":[1]}',
    '{"object":"page","entry":[null]}',
    '{"object":"page","entry":[{"id":"1","time":"soon"}]}',
    '{"object":"page","entry":[{"id":"1","messaging":{}}]}',
    '{"object":"page","entry":[{"id":"1","changes":"x"}]}',
  ].map((body) => signed(`wrong types: ${body}`, body, 400));
  const notJson = ['', 'hello', '{', '[1,2', '{"object":"page",}', "{'object':'page'}", 'NaN'].map(
    (body) => signed(`not JSON: ${JSON.stringify(body)}`, body, 400),
  );
  const invalidUtf8 = signed(
    'bytes that are not UTF-8',
    Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
    400,
    'application/octet-stream',
  );
  const huge = '{"object":"page","entry":[],"pad":"'.padEnd(MAX_BODY + 1, 'x');
  const tooLarge: Case[] = [
    signed('a body of 4 MiB and one byte, signed', huge, 413),
    {
      name: 'a body of 5 MiB, unsigned',
      method: 'POST',
      path: '/webhook',
      headers: json,
      body: huge.padEnd(5 * 1024 * 1024, 'y'),
      status: 413,
    },
  ];
  const methods = ['PUT', 'PATCH', 'DELETE'].map(
    (method): Case => ({
      name: `${method} /webhook`,
      method,
      path: '/webhook',
      headers: {
        ...json,
        'x-hub-signature-256': signBody(valid[0] ?? '', harness.secrets.appSecret),
      },
      body: valid[0] ?? '',
      status: 405,
    }),
  );
  const handshakes: Case[] = [
    `hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1`,
    `hub.mode=unsubscribe&hub.verify_token=${harness.secrets.verifyToken}&hub.challenge=1`,
    'hub.challenge=1',
    `hub.mode=subscribe&hub.challenge=1`,
  ].map((query) => ({
    name: `GET /webhook?${query.replace(harness.secrets.verifyToken, '<token>')}`,
    method: 'GET',
    path: `/webhook?${query}`,
    status: 403,
  }));
  const unknown: Case[] = [
    '/',
    '/webhooks',
    '/hook',
    '/health/deep',
    '/_local',
    '/api/webhook',
  ].map((path) => ({
    name: `POST ${path}`,
    method: 'POST',
    path,
    headers: json,
    body: valid[0] ?? '',
    status: 404,
  }));
  return [
    ...truncated,
    ...wrongTypes,
    ...notJson,
    invalidUtf8,
    ...tooLarge,
    ...methods,
    ...handshakes,
    ...unknown,
  ];
}

function badAdminRequests(): Case[] {
  const bearer = { ...json, authorization: `Bearer ${harness.secrets.adminToken}` };
  const admin = (
    name: string,
    method: string,
    path: string,
    body: unknown,
    status: number,
  ): Case => ({
    name,
    method,
    path,
    headers: bearer,
    ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    status,
  });
  const routes: [string, string, unknown][] = [
    ['GET', '/admin/pages', undefined],
    ['PUT', '/admin/pages/9001', { accessToken: 'x' }],
    ['POST', `/admin/pages/${PAGE_ID}/reconcile`, {}],
    ['GET', `/admin/topics?pageId=${PAGE_ID}`, undefined],
    [
      'PUT',
      '/admin/topics/t1',
      { pageId: PAGE_ID, title: 'T', cadence: 'DAILY', sendTime: '09:00', message: { text: 'x' } },
    ],
    ['POST', '/admin/topics/deals/optin-requests', { psid: '1' }],
    ['GET', `/admin/subscriptions?pageId=${PAGE_ID}`, undefined],
    ['POST', '/admin/fanout', { cadence: 'DAILY' }],
    ['GET', `/admin/stats?pageId=${PAGE_ID}`, undefined],
    ['DELETE', `/admin/contacts/${PAGE_ID}/forged-1`, undefined],
    ['GET', '/admin/nothing', undefined],
  ];
  const withoutCredentials = routes.flatMap(([method, path, body]) =>
    [
      ['no Authorization', {}],
      ['a wrong bearer token', { authorization: `Bearer ${random.hex(32)}` }],
      [
        'a Basic header',
        {
          authorization: `Basic ${Buffer.from(`admin:${harness.secrets.adminToken}`).toString('base64')}`,
        },
      ],
      ['an empty bearer', { authorization: 'Bearer ' }],
    ].map(
      ([what, headers]): Case => ({
        name: `${method} ${path} with ${String(what)}`,
        method,
        path,
        headers: { ...json, ...(headers as Record<string, string>) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
        status: 401,
      }),
    ),
  );
  const page = (body: unknown) => body;
  const pageBodies: [string, unknown][] = [
    ['an array', []],
    ['null', null],
    ['a string', 'x'],
    ['a number', 42],
    ['no access token for a new Page', {}],
    ['a numeric access token', { accessToken: 5 }],
    ['an empty access token', { accessToken: '' }],
    ['a rate in words', { accessToken: 't', ratePerSecond: 'fast' }],
    ['a rate of 0', { accessToken: 't', ratePerSecond: 0 }],
    ['a rate over 40', { accessToken: 't', ratePerSecond: 41 }],
    ['a fractional rate', { accessToken: 't', ratePerSecond: 1.5 }],
    ['an unknown zone', { accessToken: 't', timezone: 'Mars/Base' }],
    ['an injected zone', { accessToken: 't', timezone: "Europe/Paris'; DROP TABLE x;--" }],
    ['an unknown route', { accessToken: 't', deliveryRoute: 'fax' }],
    ['a non-numeric ad account', { accessToken: 't', adAccountId: 'act_abc' }],
    ['a non-numeric campaign', { accessToken: 't', campaignId: '1e3' }],
    ['a default topic the Page does not have', { accessToken: 't', defaultTopicId: 'nope' }],
    ['a default topic with #', { accessToken: 't', defaultTopicId: 'a#b' }],
    ['an unknown status', { accessToken: 't', status: 'deleted' }],
    ['an unknown field', { accessToken: 't', isAdmin: true }],
    ['a prototype key', JSON.parse('{"accessToken":"t","__proto__":{"status":"paused"}}')],
    [
      'the marketing route without its ad account',
      { accessToken: 't', deliveryRoute: 'marketing_messages' },
    ],
  ];
  const pages = pageBodies.map(([what, body]) =>
    admin(`PUT /admin/pages with ${what}`, 'PUT', '/admin/pages/9001', page(body), 400),
  );
  const badIds = ['a%23b', '%00', 'x'.repeat(201), '%E0%A4%A', 'a%0Ab'].map((id) =>
    admin(
      `PUT /admin/pages/${id.slice(0, 20)}`,
      'PUT',
      `/admin/pages/${id}`,
      { accessToken: 't' },
      400,
    ),
  );
  const topic = {
    pageId: PAGE_ID,
    title: 'T',
    cadence: 'DAILY',
    sendTime: '09:00',
    message: { text: 'x' },
  };
  const topicBodies: [string, unknown][] = [
    ['no pageId', { ...topic, pageId: undefined }],
    ['a numeric pageId', { ...topic, pageId: 8001 }],
    ['an hourly cadence', { ...topic, cadence: 'HOURLY' }],
    ['a send time of 25:00', { ...topic, sendTime: '25:00' }],
    ['a send time of 9:00', { ...topic, sendTime: '9:00' }],
    ['a weekday on a daily topic', { ...topic, weekday: 1 }],
    ['weekday 8', { ...topic, cadence: 'WEEKLY', weekday: 8 }],
    ['day of month 31', { ...topic, cadence: 'MONTHLY', dayOfMonth: 31 }],
    ['a 66-character title', { ...topic, title: 'x'.repeat(66) }],
    ['an empty title', { ...topic, title: '   ' }],
    ['no message', { ...topic, message: undefined }],
    ['a string message', { ...topic, message: 'hi' }],
    [
      'text and attachment',
      { ...topic, message: { text: 'x', attachment: { type: 'image', payload: {} } } },
    ],
    ['an unknown field', { ...topic, sql: "' OR 1=1" }],
    ['not JSON', '{"pageId":'],
  ];
  const topics = topicBodies.map(([what, body]) =>
    admin(`PUT /admin/topics/t-bad with ${what}`, 'PUT', '/admin/topics/t-bad', body, 400),
  );
  const queries = [
    '',
    'pageId=',
    `pageId=${PAGE_ID}&limit=0`,
    `pageId=${PAGE_ID}&limit=abc`,
    `pageId=${PAGE_ID}&limit=101`,
    `pageId=${PAGE_ID}&status=gone`,
    `pageId=${PAGE_ID}&cursor=not-a-cursor`,
    `pageId=${PAGE_ID}&sort=desc`,
    'pageId=a%23b',
  ].map((query) =>
    admin(
      `GET /admin/subscriptions?${query}`,
      'GET',
      `/admin/subscriptions?${query}`,
      undefined,
      400,
    ),
  );
  const fanouts: [string, unknown][] = [
    ['no cadence', {}],
    ['an hourly cadence', { cadence: 'HOURLY' }],
    ['a time in words', { cadence: 'DAILY', scheduledTime: 'tomorrow' }],
    ['a fractional time', { cadence: 'DAILY', scheduledTime: 1.5 }],
    ['a time in the future', { cadence: 'DAILY', scheduledTime: '2030-01-01T00:00:00Z' }],
    ['an unknown field', { cadence: 'DAILY', force: true }],
  ];
  const optIns: [string, unknown, number][] = [
    ['no psid', {}, 400],
    ['a numeric psid', { psid: 5 }, 400],
    ['an unknown call to action', { psid: '1', ctaText: 'CLICK' }, 400],
    ['an http image', { psid: '1', imageUrl: 'http://example.com/a.png' }, 400],
    ['a javascript image', { psid: '1', imageUrl: 'javascript:alert(1)' }, 400],
    ['an unknown field', { psid: '1', token: 'x' }, 400],
  ];
  const stats = [
    '',
    `pageId=${PAGE_ID}&from=yesterday`,
    `pageId=${PAGE_ID}&from=2026-02-30`,
    `pageId=${PAGE_ID}&from=2026-11-20&to=2026-11-01`,
    `pageId=${PAGE_ID}&from=2024-01-01&to=2026-01-01`,
    `pageId=${PAGE_ID}&counter=sent`,
  ].map((query) =>
    admin(`GET /admin/stats?${query}`, 'GET', `/admin/stats?${query}`, undefined, 400),
  );
  const notFound = [
    admin(
      'PUT a topic of an unknown Page',
      'PUT',
      '/admin/topics/t2',
      { ...topic, pageId: '404404' },
      404,
    ),
    admin(
      'an opt-in request for an unknown topic',
      'POST',
      '/admin/topics/nope/optin-requests',
      { psid: '1' },
      404,
    ),
    admin('reconcile an unknown Page', 'POST', '/admin/pages/404404/reconcile', {}, 404),
    admin('topics of an unknown Page', 'GET', '/admin/topics?pageId=404404', undefined, 404),
    admin('an unknown admin route', 'GET', '/admin/nothing', undefined, 404),
    admin('a path too deep', 'GET', '/admin/pages/1/2/3', undefined, 404),
  ];
  const wrongMethods = [
    ['DELETE', '/admin/pages'],
    ['POST', '/admin/stats'],
    ['PUT', '/admin/fanout'],
    ['GET', '/admin/fanout'],
    ['PATCH', `/admin/pages/${PAGE_ID}`],
    ['GET', `/admin/contacts/${PAGE_ID}/1`],
  ].map(([method = '', path = '']) => admin(`${method} ${path}`, method, path, undefined, 405));
  return [
    ...withoutCredentials,
    ...pages,
    ...badIds,
    ...topics,
    admin(
      'PUT /admin/topics with a bad reindex flag',
      'PUT',
      '/admin/topics/t-bad?reindex=yes',
      topic,
      400,
    ),
    ...queries,
    ...fanouts.map(([what, body]) =>
      admin(`POST /admin/fanout with ${what}`, 'POST', '/admin/fanout', body, 400),
    ),
    ...optIns.map(([what, body, status]) =>
      admin(
        `an opt-in request with ${what}`,
        'POST',
        '/admin/topics/deals/optin-requests',
        body,
        status,
      ),
    ),
    admin(
      'an opt-in request with a bad psid',
      'POST',
      '/admin/topics/deals/optin-requests',
      { psid: 'a#b' },
      400,
    ),
    ...stats,
    admin(
      'reconcile with an empty cursor',
      'POST',
      `/admin/pages/${PAGE_ID}/reconcile`,
      { after: '' },
      400,
    ),
    admin(
      'reconcile with an unknown field',
      'POST',
      `/admin/pages/${PAGE_ID}/reconcile`,
      { from: 0 },
      400,
    ),
    admin('erase with a bad psid', 'DELETE', `/admin/contacts/${PAGE_ID}/a%23b`, undefined, 400),
    admin(
      'a body over 256 KiB',
      'PUT',
      `/admin/pages/${PAGE_ID}`,
      { accessToken: 'x'.repeat(300_000) },
      413,
    ),
    ...notFound,
    ...wrongMethods,
  ];
}

async function send(request: Case) {
  return harness.request(request.method, request.path, {
    ...(request.headers && { headers: request.headers }),
    ...(request.body !== undefined && { body: request.body }),
  });
}

describe('forged and malformed input', () => {
  it(`gets its documented status, stores nothing, and leaves the process up (seed ${SEED})`, async () => {
    const valid = deliveries();
    const cases = random.shuffle([
      ...valid.flatMap(forgeries),
      ...malformedWebhooks(),
      ...badAdminRequests(),
    ]);
    const before = itemKeys(await harness.items());

    const answers = await mapWithConcurrency(cases, 4, send);

    const wrong = cases.flatMap((request, i) => {
      const answer = answers[i];
      return answer?.status === request.status
        ? []
        : [
            `${request.name}: ${answer?.status} ${answer?.text.slice(0, 200)}, expected ${request.status}`,
          ];
    });
    const after = itemKeys(await harness.items());
    console.info(`bad input (seed ${SEED}): ${cases.length} requests`);
    expect(cases.length).toBeGreaterThanOrEqual(200);
    expect(wrong).toEqual([]);
    expect([...after].filter((key) => !before.has(key))).toEqual([]);
    expect(answers.filter((answer) => !isErrorBody(answer.text))).toEqual([]);
    expect((await harness.request('GET', '/health')).status).toBe(200);
  }, 120_000);

  it('applies signed oddities as data, and ignores content it cannot store or does not handle', async () => {
    // [text, whether it can be part of a table key]
    const injections: [string, boolean][] = [
      ["'; DROP TABLE recurrent; --", true],
      ['<script>alert(1)</script>', true],
      [['$', '{jndi:ldap://example.com/a}'].join(''), true],
      ['../../etc/passwd', true],
      ['{"$gt":""}', true],
      ['__proto__', true],
      ['\u202eevil', true],
      ['😀'.repeat(50), true],
      ['SUB#8001#victim', false],
      ['x'.repeat(3_000), false],
      ['new\nline', false],
    ];
    const before = itemKeys(await harness.items());
    const odd = injections.map(([text], i) =>
      anOptin({
        pageId: PAGE_ID,
        psid: `odd-${i}-${text}`,
        topicId: i % 2 === 0 ? 'deals' : text,
        token: `${aSecret('odd-token')}${text}`,
        title: text,
        timezone: text,
        timestamp: START + i,
      }),
    );
    const event = (psid: string, content: Record<string, unknown>) =>
      JSON.stringify({
        object: 'page',
        entry: [
          {
            id: PAGE_ID,
            messaging: [
              { sender: { id: psid }, recipient: { id: PAGE_ID }, timestamp: START, ...content },
            ],
          },
        ],
      });
    const ignoredBodies = [
      JSON.stringify({
        object: 'user',
        entry: [{ id: '1', changes: [{ field: 'email', value: 'x' }] }],
      }),
      JSON.stringify({ object: 'whatsapp_business_account', entry: [] }),
      event('r1', { reaction: { emoji: '👍' } }),
      event('r2', { optin: { type: 'one_time_notif_req', payload: 'deals' } }),
      event('r3', {
        optin: {
          type: 'notification_messages',
          payload: 'deals',
          notification_messages_token: { $ne: null },
        },
      }),
      event('r4', {
        optin: {
          type: 'notification_messages',
          payload: 'deals',
          notification_messages_status: 'PAUSE',
        },
      }),
      event('r5', { optin: { type: 'notification_messages', payload: 'deals' } }),
      JSON.stringify({
        object: 'page',
        entry: [{ id: PAGE_ID, changes: [{ field: 'feed', value: {} }] }],
      }),
      JSON.stringify({ object: 'page', entry: [{ id: `${PAGE_ID}#r6`, messaging: [] }] }),
      fixtureText('webhooks/unknown-object.json'),
    ];

    const applied = await harness.webhook(aDelivery(odd));
    const ignored = await Promise.all(ignoredBodies.map((body) => harness.webhook(body)));

    expect(applied.status).toBe(200);
    expect(ignored.map((answer) => answer.status)).toEqual(ignoredBodies.map(() => 200));
    const items = await harness.items();
    const added = items.filter((item) => !before.has(`${String(item.pk)}|${String(item.sk)}`));
    const subscriptions = added.filter((item) => String(item.sk).startsWith('TOPIC#'));
    const storable = odd.filter((_, i) => injections[i]?.[1]);
    expect(subscriptions.map((item) => item.psid).sort()).toEqual(
      storable.map((optin) => optin.sender.id).sort(),
    );
    for (const [i, optin] of odd.entries()) {
      const stored = subscriptions.find((item) => item.psid === optin.sender.id);
      if (!injections[i]?.[1]) continue;
      expect(stored).toMatchObject({
        pageId: PAGE_ID,
        topicId: optin.optin.payload,
        token: optin.optin.notification_messages_token,
        title: optin.optin.title,
        // Not a zone: the Page's, then UTC.
        timezone: 'UTC',
        status: 'active',
      });
      // Only a defined topic puts a subscription in the due index.
      expect(stored?.duePk !== undefined).toBe(i % 2 === 0);
    }
    // Besides subscriptions: archives, token directory entries, topic zones, counters and the
    // Page's last signed delivery only.
    expect(
      added
        .map((item) => String(item.pk).split('#')[0])
        .filter(
          (prefix) => !['SUB', 'EVT', 'TOKEN', 'PAGE', 'STATS', 'WEBHOOK'].includes(prefix ?? ''),
        ),
    ).toEqual([]);
    expect(
      added.filter((item) => String(item.pk).startsWith('WEBHOOK#')).map((item) => item.pk),
    ).toEqual([`WEBHOOK#${PAGE_ID}`]);
    expect(added.filter((item) => /#r\d/.test(String(item.pk)))).toEqual([]);
    expect((await harness.request('GET', '/health')).status).toBe(200);
  });

  it('never answers or logs a secret or a token', () => {
    expect(harness.answers.length).toBeGreaterThan(200);
    expect(
      leakedSecrets([...harness.log.lines, ...harness.answers.map((answer) => answer.text)], {
        appSecret: harness.secrets.appSecret,
        adminToken: harness.secrets.adminToken,
        verifyToken: harness.secrets.verifyToken,
        pageToken,
      }),
    ).toEqual([]);
    expect(harness.log.lines.join('\n')).not.toMatch(/forged-token-|odd-token-/);
  });
});

describe('input that would not fit in one DynamoDB item', () => {
  /** A topic body whose image payload is the given JSON text, which may be too deep to build. */
  const topicWithPayload = (payload: string) =>
    `{"pageId":"${PAGE_ID}","title":"Too big","cadence":"DAILY","sendTime":"09:00",` +
    `"message":{"attachment":{"type":"image","payload":${payload}}}}`;
  const nested = (levels: number) => `{"deep":${'['.repeat(levels)}${']'.repeat(levels)}}`;

  it.each([
    [
      'over 64 KiB as JSON',
      `{"padding":"${'x'.repeat(200_000)}"}`,
      /^message: at most 65536 bytes/,
    ],
    ['nested 40 levels deep', nested(40), /^message: at most 16 levels/],
    ['nested 100,000 levels deep', nested(100_000), /^message: at most 16 levels/],
    [
      'with a number beyond the safe integers',
      '{"id":18446744073709551616}',
      /^message: numbers must/,
    ],
    ['with a number below 1e-130', '{"ratio":1e-200}', /^message: numbers must/],
  ])(
    'answers a topic message %s with 400 naming the field, and stores nothing',
    async (_, payload, reason) => {
      const before = itemKeys(await harness.items());

      const answer = await harness.request('PUT', '/admin/topics/too-big', {
        headers: { ...json, authorization: `Bearer ${harness.secrets.adminToken}` },
        body: topicWithPayload(payload),
      });

      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.text).error.message).toMatch(reason);
      const after = itemKeys(await harness.items());
      expect([...after].filter((key) => !before.has(key))).toEqual([]);
    },
  );

  it('ignores an opt-in too big to store, logs why, and applies the rest of its delivery', async () => {
    const before = itemKeys(await harness.items());
    const big = anOptin({
      pageId: PAGE_ID,
      psid: 'big-title',
      topicId: 'deals',
      token: aSecret('big-token'),
      title: 'T'.repeat(600_000),
      timezone: 'Pacific/Chatham',
      timestamp: START + 100,
    });
    const beside = anOptin({
      pageId: PAGE_ID,
      psid: 'next-to-big',
      topicId: 'deals',
      token: aSecret('beside-token'),
      timestamp: START + 100,
    });

    const answer = await harness.webhook(aDelivery([big, beside]));

    expect(answer.status).toBe(200);
    const added = (await harness.items()).filter(
      (item) => !before.has(`${String(item.pk)}|${String(item.sk)}`),
    );
    // Neither its subscription, nor its contact, nor its token directory entry.
    expect(
      added.filter((item) => String(item.pk).includes('big-title') || item.psid === 'big-title'),
    ).toEqual([]);
    expect(added.filter((item) => item.psid === 'next-to-big').map((item) => item.sk)).toEqual(
      expect.arrayContaining(['TOPIC#deals', 'SUB']),
    );
    // The zone of the ignored opt-in was not recorded either: nothing of it is half-written.
    const zones = (await harness.items()).find(
      (item) => item.pk === `PAGE#${PAGE_ID}` && item.sk === 'ZONES#deals',
    );
    expect([...((zones?.zones as Set<string> | undefined) ?? [])]).not.toContain(
      'DAILY#Pacific/Chatham',
    );
    expect(harness.log.lines.join('\n')).toContain(
      'an event whose optin.title is longer than 4096 characters',
    );
  });
});

/** Errors are JSON `{"error":{"code","message"}}`; a handshake answers its challenge as text. */
function isErrorBody(text: string): boolean {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || !('error' in parsed)) return false;
    const error: unknown = parsed.error;
    return (
      typeof error === 'object' &&
      error !== null &&
      'code' in error &&
      typeof error.code === 'string' &&
      'message' in error &&
      typeof error.message === 'string'
    );
  } catch {
    return false;
  }
}
