import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { paginateScan } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminDeps } from '#lib/aws/admin-deps.ts';
import { dynamoContentEditions } from '#lib/aws/dynamo-content-editions.ts';
import { dynamoContentSecrets } from '#lib/aws/dynamo-content-secrets.ts';
import { dynamoEditions } from '#lib/aws/dynamo-editions.ts';
import { fixedClock } from '#lib/clock.ts';
import { graphClient } from '#lib/graph/graph-client.ts';
import { httpContentSourceClient } from '#lib/http/content-source-client.ts';
import { createAdminHandler } from '../../functions/admin.ts';
import { localContentSources } from '../../local/content-sources.ts';
import { freePort } from '../../local/emulators.ts';
import { anApiEvent } from '../support/api-event.ts';
import { captureLog } from '../support/capture-log.ts';
import { createTestQueue } from '../support/queue.ts';
import { createTestTable } from '../support/table.ts';

/**
 * A topic's content source: the admin API's contentUrl rules and its secret (shown once), on
 * DynamoDB Local; the fan-out's HTTP client against a real local server; the conditional write
 * of a fetched edition.
 */
const ADMIN_TOKEN = 'content-source-admin';
const NOW = Date.parse('2026-12-01T09:00:00Z');
const PAGE_ID = '6101';
const context = {} as Context;

let db: Awaited<ReturnType<typeof createTestTable>>;
let queue: Awaited<ReturnType<typeof createTestQueue>>;
let server: Server;
let serverUrl: string;
const log = captureLog();
/** Every admin answer body of this file: a secret may appear only in the one that made it. */
const answers: string[] = [];

function handler(allowLoopbackHttp: boolean) {
  const parts = localContentSources(db.client, db.table);
  return createAdminHandler(
    { adminToken: ADMIN_TOKEN },
    adminDeps(
      { dynamo: db.client, sqs: queue.client },
      { table: db.table, queueUrl: queue.queueUrl, lookbackHours: 6 },
      {
        graph: graphClient({ baseUrl: 'http://127.0.0.1:9', version: 'v24.0' }),
        clock: fixedClock(NOW),
        log,
        continuations: { handOver: async () => {} },
        contentSources: { ...parts, allowLoopbackHttp },
      },
    ),
  );
}

async function call(
  method: string,
  path: string,
  body?: unknown,
  query?: Record<string, string>,
  allowLoopbackHttp = true,
) {
  const response = await handler(allowLoopbackHttp)(
    anApiEvent({
      method,
      path,
      ...(body !== undefined && { body: JSON.stringify(body) }),
      ...(query && { query }),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    }),
    context,
  );
  answers.push(response.body ?? '');
  // biome-ignore lint/suspicious/noExplicitAny: answers are read as loosely as a client would.
  return { status: response.statusCode ?? 0, body: JSON.parse(response.body ?? 'null') as any };
}

const aTopic = (topicId: string, fields: Record<string, unknown> = {}) => ({
  pageId: PAGE_ID,
  title: `Deals ${topicId}`,
  cadence: 'DAILY',
  sendTime: '09:00',
  message: { text: 'Our deals' },
  ...fields,
});

async function itemsUnder(prefix: string) {
  const found: Record<string, unknown>[] = [];
  for await (const page of paginateScan({ client: db.client }, { TableName: db.table })) {
    found.push(...(page.Items ?? []).filter((entry) => String(entry.pk).startsWith(prefix)));
  }
  return found;
}

beforeAll(async () => {
  [db, queue] = await Promise.all([
    createTestTable('content-source'),
    createTestQueue('content-source'),
  ]);
  // One server plays every kind of content source, by path.
  server = createServer((request, response) => {
    const path = request.url ?? '/';
    request.resume();
    if (path === '/slow') return; // never answers
    if (path === '/redirect') {
      response.writeHead(302, { location: 'http://example.com/' }).end();
      return;
    }
    if (path === '/broken') {
      response.writeHead(500).end('oops');
      return;
    }
    request.on('end', () => {
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ message: { text: 'hello' } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const page = await call('PUT', `/admin/pages/${PAGE_ID}`, {
    accessToken: 'content-source-page-token',
    timezone: 'Europe/Paris',
  });
  expect(page.status).toBe(200);
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

describe('a topic with a content source, through the admin API', () => {
  it('makes its secret with the first contentUrl and shows it that once', async () => {
    const first = await call(
      'PUT',
      '/admin/topics/sourced',
      aTopic('sourced', { contentUrl: `${serverUrl}/editions` }),
    );
    const again = await call(
      'PUT',
      '/admin/topics/sourced',
      aTopic('sourced', { contentUrl: `${serverUrl}/other` }),
    );
    const listed = await call('GET', '/admin/topics', undefined, { pageId: PAGE_ID });

    expect(first.status).toBe(200);
    expect(first.body.contentSecret).toMatch(/^[0-9a-f]{64}$/);
    expect(first.body.topic.contentSecretAt).toBe(NOW);
    expect(again.status).toBe(200);
    expect(again.body.contentSecret).toBeUndefined();
    const topic = listed.body.items.find((item: { topicId: string }) => item.topicId === 'sourced');
    expect(topic).toEqual(
      expect.objectContaining({ contentUrl: `${serverUrl}/other`, contentSecretAt: NOW }),
    );
    expect(JSON.stringify(listed.body)).not.toContain(first.body.contentSecret);
    expect(
      await dynamoContentSecrets(db.client, db.table).get({ pageId: PAGE_ID, topicId: 'sourced' }),
    ).toBe(first.body.contentSecret);
  });

  it('rotates the secret on request, showing only the new one', async () => {
    const made = await call(
      'PUT',
      '/admin/topics/rotated',
      aTopic('rotated', { contentUrl: `${serverUrl}/x` }),
    );
    const rotated = await call('POST', '/admin/topics/rotated/content-secret', { pageId: PAGE_ID });
    const listed = await call('GET', '/admin/topics', undefined, { pageId: PAGE_ID });

    expect(rotated.status).toBe(200);
    expect(rotated.body.contentSecret).toMatch(/^[0-9a-f]{64}$/);
    expect(rotated.body.contentSecret).not.toBe(made.body.contentSecret);
    expect(
      await dynamoContentSecrets(db.client, db.table).get({ pageId: PAGE_ID, topicId: 'rotated' }),
    ).toBe(rotated.body.contentSecret);
    expect(JSON.stringify(listed.body)).not.toContain(rotated.body.contentSecret);
    expect(log.lines.join('\n')).not.toContain(rotated.body.contentSecret);
    expect(log.lines.join('\n')).not.toContain(made.body.contentSecret);
  });

  it('refuses to rotate the secret of a topic without a contentUrl, or of no topic', async () => {
    await call('PUT', '/admin/topics/plain', aTopic('plain'));

    const plain = await call('POST', '/admin/topics/plain/content-secret', { pageId: PAGE_ID });
    const missing = await call('POST', '/admin/topics/nothing/content-secret', { pageId: PAGE_ID });

    expect(plain.status).toBe(409);
    expect(plain.body.error.message).toMatch(/no contentUrl/);
    expect(missing.status).toBe(404);
  });

  it.each([
    [
      'http to a host that is not loopback',
      'http://content.example.com/editions',
      true,
      /plain http only to a loopback host/,
    ],
    [
      'http to loopback on a deployed stack',
      'http://127.0.0.1:4000/editions',
      false,
      /only in the local runtime/,
    ],
    ['not a URL', 'content.example.com', true, /absolute https/],
    ['ftp', 'ftp://content.example.com/', true, /https/],
    ['a URL with a password', 'https://a:b@content.example.com/', true, /user name or password/],
  ])(
    'answers 400 naming contentUrl for %s, and stores nothing',
    async (_, contentUrl, allowLoopbackHttp, reason) => {
      const topicId = `bad-${answers.length}`;

      const answer = await call(
        'PUT',
        `/admin/topics/${topicId}`,
        aTopic(topicId, { contentUrl }),
        undefined,
        allowLoopbackHttp,
      );
      const listed = await call('GET', '/admin/topics', undefined, { pageId: PAGE_ID });

      expect(answer.status).toBe(400);
      expect(answer.body.error.message).toMatch(/^contentUrl: /);
      expect(answer.body.error.message).toMatch(reason);
      expect(listed.body.items.map((item: { topicId: string }) => item.topicId)).not.toContain(
        topicId,
      );
      expect(await itemsUnder(`CONTENTSECRET#${PAGE_ID}#${topicId}`)).toEqual([]);
    },
  );

  it('never shows a secret in any answer but the one that made it', async () => {
    const secrets = (await itemsUnder('CONTENTSECRET#')).map((entry) => String(entry.secret));
    expect(secrets.length).toBeGreaterThan(0);
    for (const secret of secrets) {
      expect(answers.filter((body) => body.includes(secret))).toHaveLength(1);
    }
  });
});

describe('the content source HTTP client', () => {
  const client = httpContentSourceClient();
  const post = (path: string, timeoutMs = 2_000) =>
    client.post(`${serverUrl}${path}`, {
      body: '{}',
      headers: { 'content-type': 'application/json' },
      timeoutMs,
    });

  it('reads an answer', async () => {
    expect(await post('/editions')).toEqual({
      kind: 'answered',
      status: 200,
      body: JSON.stringify({ message: { text: 'hello' } }),
    });
  });

  it('gives up on a source that does not answer in time', async () => {
    expect(await post('/slow', 300)).toEqual({ kind: 'timeout' });
  });

  it('answers 500 as it came, and does not follow a redirect', async () => {
    expect(await post('/broken')).toEqual(expect.objectContaining({ status: 500 }));
    expect(await post('/redirect')).toEqual(expect.objectContaining({ status: 302 }));
  });

  it('says so when nothing listens', async () => {
    const answer = await client.post(`http://127.0.0.1:${await freePort()}/`, {
      body: '{}',
      headers: {},
      timeoutMs: 1_000,
    });

    expect(answer).toEqual({ kind: 'unreachable', reason: 'ECONNREFUSED' });
  });
});

describe('the fan-out’s write of a fetched edition', () => {
  it('stores one where none is, and keeps one that is there', async () => {
    const writer = dynamoContentEditions(db.client, db.table);
    const editions = dynamoEditions(db.client, db.table);
    const key = { pageId: PAGE_ID, topicId: 'sourced', date: '2026-12-05' };

    const first = await writer.create({ ...key, message: { text: 'first' } }, NOW);
    const second = await writer.create({ ...key, message: { text: 'second' } }, NOW + 1);

    expect([first, second]).toEqual(['created', 'exists']);
    expect(await editions.get(key)).toEqual(
      expect.objectContaining({ message: { text: 'first' }, version: 1, createdAt: NOW }),
    );
  });
});
