import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminDeps } from '#lib/aws/admin-deps.ts';
import { dynamoStatsStore } from '#lib/aws/dynamo-stats-store.ts';
import { webhookDeps } from '#lib/aws/webhook-deps.ts';
import { fixedClock } from '#lib/clock.ts';
import { applySubscriptionEvents } from '#lib/domain/intake/ingest-delivery.ts';
import { createStatsTally } from '#lib/domain/stats.ts';
import type { SubscriptionEvent } from '#lib/domain/subscription.ts';
import { graphClient } from '#lib/graph/graph-client.ts';
import { silentLog } from '#lib/log.ts';
import { createAdminHandler } from '../../functions/admin.ts';
import { lambdaContext, readBody, toApiEvent, writeApiResult } from '../../local/api-gateway.ts';
import { freePort } from '../../local/emulators.ts';
import { type MetaSimulator, startMetaSimulator } from '../../local/meta-simulator/index.ts';
import { createTestQueue } from '../support/queue.ts';
import { createTestTable } from '../support/table.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
/** The project's pinned Node.js 24, which runs the TypeScript CLI directly. */
const NODE = path.join(ROOT, 'node_modules/.bin/node');
const ADMIN_TOKEN = 'cli-admin-token';
const PAGE_TOKEN = 'cli-page-access-token';
const NOW = Date.parse('2026-11-21T09:00:00Z');
const PAGE = '4242';

let db: Awaited<ReturnType<typeof createTestTable>>;
let sim: MetaSimulator;
let local: { url: string; server: Server };
let onAws: { url: string; server: Server; seen: Record<string, string>[] };
let scratch: string;
const clock = fixedClock(NOW);

/** The admin handler behind node:http, the way the local runtime serves it. */
async function serve(adminToken: string | undefined) {
  const queue = await createTestQueue('cli');
  const handler = createAdminHandler(
    adminToken === undefined ? {} : { adminToken },
    adminDeps(
      { dynamo: db.client, sqs: queue.client },
      { table: db.table, queueUrl: queue.queueUrl, lookbackHours: 6 },
      {
        graph: graphClient({ baseUrl: sim.url, version: 'v24.0' }),
        clock,
        log: silentLog,
        continuations: { handOver: async () => {} },
      },
    ),
  );
  const seen: Record<string, string>[] = [];
  const server = createServer(async (request, response) => {
    const body = (await readBody(request, 1_000_000)) ?? Buffer.alloc(0);
    const event = toApiEvent(request, body, clock.now());
    seen.push(event.headers as Record<string, string>);
    writeApiResult(response, await handler(event, lambdaContext('admin', 29_000)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server, seen };
}

/** Runs `recurrent <args>` as a child process. */
function recurrent(
  args: readonly string[],
  options: { env?: Record<string, string>; stdin?: string; entry?: string; node?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      options.node ?? NODE,
      [options.entry ?? path.join(ROOT, 'cli/recurrent.ts'), ...args],
      {
        cwd: scratch,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: scratch,
          ADMIN_TOKEN,
          RECURRENT_URL: local.url,
          ...options.env,
        },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}

beforeAll(async () => {
  [db, sim] = await Promise.all([
    createTestTable('cli'),
    startMetaSimulator({ clock, appSecret: 'cli-simulator' }),
  ]);
  sim.addPage({ id: PAGE, accessToken: PAGE_TOKEN, timezone: 'Europe/Paris' });
  [local, onAws] = await Promise.all([serve(ADMIN_TOKEN), serve(undefined)]);
  scratch = mkdtempSync(path.join(tmpdir(), 'recurrent-cli-'));
});

afterAll(async () => {
  for (const { server } of [local, onAws]) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  await sim.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('recurrent pages', () => {
  it('registers a Page with the token from stdin, and never prints it', async () => {
    const result = await recurrent(
      ['pages', 'put', PAGE, '--access-token', '-', '--timezone', 'Europe/Paris', '--rate', '40'],
      { stdin: `${PAGE_TOKEN}\n` },
    );

    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe(`Page ${PAGE} registered: send_api, 40/s, Europe/Paris, active\n`);
  });

  it('lists Pages as an aligned table, or as JSON', async () => {
    const human = await recurrent(['pages', 'list']);
    const json = await recurrent(['pages', 'list', '--json']);

    expect(human.code).toBe(0);
    const [header, row] = human.stdout.split('\n');
    expect(header).toMatch(/^PAGE\s+ROUTE\s+RATE\/S\s+TIMEZONE\s+STATUS\s+TOKEN/);
    expect(row).toMatch(new RegExp(`^${PAGE}\\s+send_api\\s+40\\s+Europe/Paris\\s+active\\s+set`));
    expect(header?.indexOf('ROUTE')).toBe(row?.indexOf('send_api'));
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).items).toContainEqual(
      expect.objectContaining({ pageId: PAGE, hasAccessToken: true }),
    );
    expect(human.stdout + json.stdout).not.toContain(PAGE_TOKEN);
  });
});

describe('recurrent topics and subs', () => {
  it('saves a topic from a file and lists it with its effective cadence', async () => {
    const file = path.join(scratch, 'topic.json');
    writeFileSync(
      file,
      JSON.stringify({
        topicId: 'cli-deals',
        pageId: PAGE,
        title: 'CLI deals',
        cadence: 'DAILY',
        sendTime: '09:00',
        message: { text: 'Deals' },
      }),
    );

    const put = await recurrent(['topics', 'put', '--file', file]);
    const list = await recurrent(['topics', 'list', '--page', PAGE]);

    expect(put.code).toBe(0);
    expect(put.stdout).toContain(`Topic cli-deals created on Page ${PAGE}: "CLI deals"`);
    expect(put.stdout).toContain(
      'sends every 2 days at 09:00: the legacy route allows one send per 48 h',
    );
    expect(list.stdout.split('\n')[1]).toMatch(/^cli-deals\s+CLI deals\s+DAILY\s+every 2 days/);
  });

  it('saves a topic with --priority over the file, and lists its priority', async () => {
    const file = path.join(scratch, 'ranked.json');
    writeFileSync(
      file,
      JSON.stringify({
        topicId: 'cli-ranked',
        pageId: PAGE,
        title: 'CLI ranked',
        cadence: 'WEEKLY',
        sendTime: '10:00',
        message: { text: 'Ranked' },
        priority: 3,
      }),
    );

    const put = await recurrent(['topics', 'put', '--file', file, '--priority', '7']);
    const bad = await recurrent(['topics', 'put', '--file', file, '--priority', '101']);
    const list = await recurrent(['topics', 'list', '--page', PAGE]);

    expect(put.code).toBe(0);
    expect(put.stdout).toContain('  priority 7');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('priority: must be 0 to 100');
    expect(list.stdout.split('\n')[0]).toMatch(/SENDS\s+PRIORITY$/);
    expect(list.stdout).toMatch(
      /cli-ranked\s+CLI ranked\s+WEEKLY\s+every week on Monday at 10:00\s+7/,
    );
  });

  it('pages through subscriptions with the cursor it prints', async () => {
    const events: SubscriptionEvent[] = ['p1', 'p2', 'p3'].map((psid) => ({
      kind: 'optin',
      pageId: PAGE,
      psid,
      topicId: 'cli-deals',
      timestamp: NOW - 86_400_000,
      token: `cli-token-${psid}`,
      timezone: 'Europe/Paris',
    }));
    await applySubscriptionEvents(
      events,
      webhookDeps(db.client, db.table, { clock, log: silentLog }),
      createStatsTally(),
    );

    const first = await recurrent(['subs', 'list', '--page', PAGE, '--limit', '2']);
    const cursor = /--cursor (\S+)/.exec(first.stdout)?.[1] ?? '';
    const rest = await recurrent(['subs', 'list', '--page', PAGE, '--cursor', cursor, '--json']);

    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^PSID\s+TOPIC\s+STATUS\s+CADENCE\s+TIMEZONE\s+NEXT DUE/);
    expect(first.stdout).toContain('2026-11-22 08:00Z');
    expect(cursor).not.toBe('');
    const page = JSON.parse(rest.stdout);
    expect(page.items.map((item: { psid: string }) => item.psid)).toEqual(['p3']);
    expect(first.stdout + rest.stdout).not.toContain('cli-token-');
  });
});

describe('recurrent stats and erase', () => {
  it('draws the daily counters as bars', async () => {
    await dynamoStatsStore(db.client, db.table).add([
      { pageId: PAGE, topicId: 'cli-deals', day: '2026-11-19', counts: { sent: 40 } },
      { pageId: PAGE, topicId: 'cli-deals', day: '2026-11-20', counts: { sent: 10, optins: 2 } },
    ]);

    const result = await recurrent([
      'stats',
      '--page',
      PAGE,
      '--from',
      '2026-11-19',
      '--to',
      '2026-11-21',
    ]);

    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe(`sent per day, Page ${PAGE}, all topics, 2026-11-19 to 2026-11-21`);
    expect(lines).toContain(`2026-11-19  40  ${'█'.repeat(40)}`);
    expect(lines).toContain(`2026-11-20  10  ${'█'.repeat(10)}`);
    expect(lines).toContain('2026-11-21   0');
    expect(result.stdout).toContain('Totals: optins 2, stops 0');
  });

  it('erases a person and says so, then finds nothing', async () => {
    const first = await recurrent(['erase', '--page', PAGE, '--psid', 'p1']);
    const again = await recurrent(['erase', '--page', PAGE, '--psid', 'p1', '--json']);

    expect(first.stdout).toBe(
      `Erased p1 of Page ${PAGE}: 1 subscription, 1 token directory entry.\nMeta had no subscription of the person.\n`,
    );
    expect(JSON.parse(again.stdout).erased).toEqual({
      subscriptions: 0,
      contact: 0,
      tokens: 0,
      other: 0,
    });
  });
});

describe('recurrent failures', () => {
  it("shows the API's error message and exits 1", async () => {
    const result = await recurrent(['topics', 'list', '--page', '999']);

    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('recurrent: Page 999 is not registered (not_found, HTTP 404)\n');
  });

  it('says when to retry a refused opt-in request', async () => {
    const result = await recurrent(['optin-request', '--topic', 'cli-deals', '--psid', 'p2']);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('(outside_window, HTTP 422)');
  });

  it('points at the admin token when the runtime refuses it', async () => {
    const result = await recurrent(['pages', 'list', '--token', 'wrong']);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('(unauthorized, HTTP 401)');
    expect(result.stderr).toContain('set ADMIN_TOKEN or --token');
  });

  it('prints the error body as JSON with --json', async () => {
    const result = await recurrent(['fanout', '--cadence', 'hourly', '--json']);

    expect(result.code).toBe(1);
    expect(JSON.parse(result.stderr)).toEqual({
      error: { code: 'invalid_input', message: expect.stringMatching(/^cadence: /) },
    });
  });

  it('exits 1 when the API cannot be reached and 2 when misused', async () => {
    const offline = await recurrent([
      'pages',
      'list',
      '--url',
      `http://127.0.0.1:${await freePort()}`,
    ]);
    const misused = await recurrent(['subs', 'list']);

    expect(offline.code).toBe(1);
    expect(offline.stderr).toMatch(/^recurrent: cannot reach http:\/\/127\.0\.0\.1:\d+/);
    expect(misused.code).toBe(2);
    expect(misused.stderr).toContain('subs list needs --page');
  });
});

describe('recurrent against a deployed stack', () => {
  it('signs with SigV4 for execute-api instead of sending a bearer token', async () => {
    const result = await recurrent(
      ['pages', 'list', '--aws', '--region', 'eu-west-1', '--url', `${onAws.url}/admin/`],
      {
        env: {
          AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
          AWS_SECRET_ACCESS_KEY: 'cli-test-secret',
          AWS_CONFIG_FILE: path.join(scratch, 'no-config'),
          AWS_SHARED_CREDENTIALS_FILE: path.join(scratch, 'no-credentials'),
        },
      },
    );

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const headers = onAws.seen.at(-1) ?? {};
    expect(headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request/,
    );
    expect(headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
  });
});

describe('the npm bin launcher', () => {
  it('runs the TypeScript CLI from any Node.js, re-executing it on the pinned one when older', async () => {
    // The machine's own node (older than 24 here) when there is one on the PATH, else ours.
    const machineNode =
      (process.env.PATH ?? '')
        .split(path.delimiter)
        .filter((dir) => !dir.includes('node_modules'))
        .map((dir) => path.join(dir, 'node'))
        .find((candidate) => existsSync(candidate)) ?? NODE;

    const result = await recurrent(['pages', 'list', '--json'], {
      node: machineNode,
      entry: path.join(ROOT, 'cli/recurrent.js'),
    });

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).items.length).toBeGreaterThan(0);
  });
});
