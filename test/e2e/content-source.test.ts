import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SIGNATURE_HEADER, signContentBody } from '#lib/domain/content-source.ts';
import { freePort } from '../../local/emulators.ts';
import { type Runtime, startRuntime } from '../../local/runtime.ts';
import { captureLog } from '../support/capture-log.ts';
import { adminClient, settled } from '../support/local-runtime.ts';

/**
 * Content sources through `npm start`'s runtime and the Meta simulator: a DAILY 09:00 Page with
 * people in Tokyo, Paris and New York, and four topics whose sources answer, answer 204 (with
 * `skip`), never answer, and answer 500. The clock jumps to just after each zone's 09:00 of
 * 3 December, one fan-out run per jump.
 */
const ADMIN_TOKEN = 'content-e2e-admin';
const PAGE_ID = '7401';
const DATE = '2026-12-03';
const START = Date.parse('2026-12-02T23:00:00Z');
// Just after 09:00 of 3 December in Tokyo (00:00 UTC), Paris (08:00 UTC), New York (14:00 UTC).
const JUMPS = ['2026-12-03T00:30:00Z', '2026-12-03T08:30:00Z', '2026-12-03T14:30:00Z'].map(
  Date.parse,
);
const ZONES = ['Asia/Tokyo', 'Europe/Paris', 'America/New_York'];
const TOPICS = {
  answering: { path: '/answering', whenNoEdition: 'default' },
  silent: { path: '/silent', whenNoEdition: 'skip' },
  slow: { path: '/slow', whenNoEdition: 'default' },
  broken: { path: '/broken', whenNoEdition: 'default' },
} as const;
type TopicId = keyof typeof TOPICS;
const PEOPLE = ZONES.flatMap((zone, z) =>
  Object.keys(TOPICS).map((topicId, t) => ({ psid: `74${z}${t}`, zone, topicId })),
);

const log = captureLog();
let runtime: Runtime;
const admin = adminClient(() => runtime, ADMIN_TOKEN);
let source: Server;
/** What the content source got, per path: the body, and whether its signature verified. */
const requests: { path: string; body: string; signed: boolean }[] = [];
const secrets = new Map<string, string>();

function simulator() {
  if (!runtime.simulator) throw new Error('the runtime runs without its simulator');
  return runtime.simulator;
}

async function bodyOf(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** One local server plays the four sources, told apart by path; each checks the signature. */
async function startSource(): Promise<string> {
  source = createServer(async (request, response) => {
    const path = request.url ?? '/';
    const body = await bodyOf(request);
    const topicId = (Object.keys(TOPICS) as TopicId[]).find((id) => TOPICS[id].path === path);
    const secret = topicId && secrets.get(topicId);
    const signed =
      secret !== undefined &&
      request.headers[CONTENT_SIGNATURE_HEADER] === signContentBody(body, secret);
    requests.push({ path, body, signed });
    if (path === '/slow') return; // never answers: the fan-out's timeout ends it
    if (path === '/broken') return void response.writeHead(500).end('down');
    if (path === '/silent') return void response.writeHead(204).end();
    const { date } = JSON.parse(body) as { date: string };
    response
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ message: { text: `Deal of ${date}` } }));
  });
  await new Promise<void>((resolve) => source.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(source.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  const sourceUrl = await startSource();
  runtime = await startRuntime({
    port: await freePort(),
    appSecret: 'content-e2e-secret',
    verifyToken: 'content-e2e-verify',
    adminToken: ADMIN_TOKEN,
    graphVersion: 'v24.0',
    clockStart: START,
    clockSpeed: 1,
    log,
    tableName: `content-e2e-${Date.now()}`,
    useRunningEmulators: true,
    scheduleCatchUp: 'latest-run',
  });
  const page = await admin('PUT', `/admin/pages/${PAGE_ID}`, {
    accessToken: 'content-e2e-page-token',
    timezone: 'Europe/Paris',
  });
  expect(page.status).toBe(200);
  for (const [topicId, { path, whenNoEdition }] of Object.entries(TOPICS)) {
    const topic = await admin('PUT', `/admin/topics/${topicId}`, {
      pageId: PAGE_ID,
      title: `Deals ${topicId}`,
      cadence: 'DAILY',
      sendTime: '09:00',
      message: { text: `${topicId}: our usual deals` },
      whenNoEdition,
      contentUrl: `${sourceUrl}${path}`,
    });
    expect(topic.status).toBe(200);
    secrets.set(topicId, topic.body.contentSecret);
  }
  for (const { psid, zone, topicId } of PEOPLE) {
    simulator().addPerson({ pageId: PAGE_ID, psid, timezone: zone });
    simulator().seedToken({
      pageId: PAGE_ID,
      psid,
      topicId,
      title: `Deals ${topicId}`,
      announce: true,
    });
  }
  await simulator().settle();
}, 60_000);

afterAll(async () => {
  await runtime?.stop();
  source?.closeAllConnections();
  await new Promise<void>((resolve) => (source ? source.close(() => resolve()) : resolve()));
});

describe('content sources end to end', () => {
  it('sends each topic what its source said, or what whenNoEdition says when it failed', async () => {
    for (const at of JUMPS) {
      await runtime.moveClock(at);
      await settled(runtime);
    }

    const sent = simulator()
      .sent()
      .filter((entry) => entry.pageId === PAGE_ID);
    const textsOf = (topicId: TopicId) =>
      PEOPLE.filter((person) => person.topicId === topicId).map(({ psid }) =>
        sent.filter((entry) => entry.psid === psid).map((entry) => entry.message.text),
      );
    expect(textsOf('answering')).toEqual(ZONES.map(() => [`Deal of ${DATE}`]));
    expect(textsOf('silent')).toEqual(ZONES.map(() => []));
    expect(textsOf('slow')).toEqual(ZONES.map(() => ['slow: our usual deals']));
    expect(textsOf('broken')).toEqual(ZONES.map(() => ['broken: our usual deals']));
  }, 240_000);

  it('asked the answering source once for the date, signed, and stored its answer', async () => {
    const asked = requests.filter((request) => request.path === '/answering');
    const edition = await admin(
      'GET',
      `/admin/topics/answering/editions/${DATE}?pageId=${PAGE_ID}`,
    );

    expect(asked).toEqual([
      {
        path: '/answering',
        body: JSON.stringify({
          pageId: PAGE_ID,
          topicId: 'answering',
          date: DATE,
          cadence: 'DAILY',
        }),
        signed: true,
      },
    ]);
    expect(requests.every((request) => request.signed)).toBe(true);
    expect(edition.status).toBe(200);
    expect(edition.body.message).toEqual({ text: `Deal of ${DATE}` });
  });

  it('retried the failing sources a bounded number of times, and logged each failure', async () => {
    const failures = log.entries.filter((entry) => entry.message === 'content source failed');
    const perRun = (path: string) => requests.filter((request) => request.path === path).length;

    // Three runs with a slot on 3 December, each trying three times.
    expect(perRun('/broken')).toBe(9);
    expect(perRun('/slow')).toBe(9);
    expect(perRun('/silent')).toBe(3);
    expect(failures).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          topicId: 'broken',
          date: DATE,
          reason: 'answered 500',
          attempts: 3,
        }),
        expect.objectContaining({
          topicId: 'slow',
          date: DATE,
          reason: 'no answer within 3000 ms',
          attempts: 3,
        }),
      ]),
    );
    expect(failures.map((entry) => entry.topicId).sort()).toEqual([
      ...Array(3).fill('broken'),
      ...Array(3).fill('slow'),
    ]);
    const printed = log.lines.join('\n');
    for (const secret of secrets.values()) expect(printed).not.toContain(secret);
  });
});
