import { spawn } from 'node:child_process';
import path from 'node:path';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqsClient } from '#lib/aws/clients.ts';
import { silentLog } from '#lib/log.ts';
import { freePort } from '../../local/emulators.ts';
import type { MetaSimulator } from '../../local/meta-simulator/index.ts';
import { type Runtime, startRuntime } from '../../local/runtime.ts';

/** `recurrent doctor` against the local runtime and its Meta simulator: each check, both ways. */

const ROOT = path.resolve(import.meta.dirname, '../..');
const NODE = path.join(ROOT, 'node_modules/.bin/node');
const ADMIN_TOKEN = 'doctor-admin';
const PAGE_TOKEN = 'doctor-page-token';
const PAGE = '4242';
const QUIET_PAGE = '4343';
const AD_ACCOUNT = '555';
const CAMPAIGN = '900';
const EVERY_PERMISSION = [
  'pages_messaging',
  'pages_manage_metadata',
  'ads_management',
  'paid_marketing_messages',
];
const EVERY_FIELD = [
  'messages',
  'messaging_optins',
  'marketing_message_deliveries',
  'marketing_message_reads',
  'marketing_message_clicks',
  'marketing_message_delivery_failed',
];

let runtime: Runtime;

function simulator(): MetaSimulator {
  if (!runtime.simulator) throw new Error('the runtime runs without its simulator');
  return runtime.simulator;
}

/** Runs `recurrent <args>` as a child process against the runtime. */
function recurrent(
  args: readonly string[],
  stdin = '',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [path.join(ROOT, 'cli/recurrent.ts'), ...args], {
      env: { PATH: process.env.PATH ?? '', ADMIN_TOKEN, RECURRENT_URL: runtime.url },
    });
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
    child.stdin.end(stdin);
  });
}

/** The lines of `recurrent doctor` that did not pass, without their fixes. */
const problems = (stdout: string) =>
  stdout.split('\n').filter((line) => line.startsWith('✗') || line.startsWith('!'));

beforeAll(async () => {
  runtime = await startRuntime({
    port: await freePort(),
    appSecret: 'doctor-app-secret',
    verifyToken: 'doctor-verify',
    adminToken: ADMIN_TOKEN,
    graphVersion: 'v24.0',
    clockStart: Date.parse('2026-11-21T09:00:00Z'),
    clockSpeed: 1,
    log: silentLog,
    tableName: `doctor-${Date.now()}`,
    useRunningEmulators: true,
  });
  // Registered through the admin API, which the runtime mirrors into the simulator.
  const put = await recurrent(
    [
      'pages',
      'put',
      PAGE,
      '--access-token',
      '-',
      '--route',
      'marketing_messages',
      '--ad-account',
      AD_ACCOUNT,
      '--campaign',
      CAMPAIGN,
    ],
    PAGE_TOKEN,
  );
  expect(put.code).toBe(0);
  const { psid } = simulator().addPerson({ pageId: PAGE });
  simulator().personWrites(PAGE, psid);
  await simulator().settle();
});

afterAll(async () => {
  await runtime?.stop();
});

describe('recurrent doctor', () => {
  it('passes every check of a Page set up right, with exit code 0', async () => {
    const { code, stdout } = await recurrent(['doctor', '--page', PAGE]);
    expect(problems(stdout)).toEqual([]);
    expect(stdout).toContain('✓ admin API answers');
    expect(stdout).toContain(`✓ Page ${PAGE}: campaign is active and warmed up`);
    expect(stdout).toContain('✓ dead-letter queues are empty');
    expect(stdout).toContain('Every check passed.');
    expect(code).toBe(0);
  });

  it.each<{ check: string; fix: string; breakIt: () => void; mendIt: () => void }>([
    {
      check: "Page's access token works",
      fix: `recurrent pages put ${PAGE} --access-token -`,
      breakIt: () => simulator().addPage({ id: PAGE, accessToken: 'rotated-at-meta' }),
      mendIt: () =>
        simulator().addPage({
          id: PAGE,
          accessToken: PAGE_TOKEN,
          adAccountId: AD_ACCOUNT,
          systemUserToken: PAGE_TOKEN,
        }),
    },
    {
      check: 'token has the permissions of the marketing_messages route',
      fix: 'grant ads_management',
      breakIt: () => simulator().updatePageSetup(PAGE, { permissions: ['pages_messaging'] }),
      mendIt: () => simulator().updatePageSetup(PAGE, { permissions: EVERY_PERMISSION }),
    },
    {
      check: 'app subscribed to the webhook fields: not subscribed: messaging_optins',
      fix: "subscribe the app to the Page's messaging_optins field",
      breakIt: () =>
        simulator().updatePageSetup(PAGE, {
          subscribedFields: EVERY_FIELD.filter((field) => field !== 'messaging_optins'),
        }),
      mendIt: () => simulator().updatePageSetup(PAGE, { subscribedFields: EVERY_FIELD }),
    },
    {
      check: 'ad account is active',
      fix: 'Meta Ads Manager',
      breakIt: () => simulator().updateAdAccount(AD_ACCOUNT, { accountStatus: 2 }),
      mendIt: () => simulator().updateAdAccount(AD_ACCOUNT, { accountStatus: 1 }),
    },
    {
      check: `campaign is active and warmed up: campaign ${CAMPAIGN} is PAUSED`,
      fix: `activate campaign ${CAMPAIGN}`,
      breakIt: () => simulator().updateCampaign(CAMPAIGN, { status: 'PAUSED' }),
      mendIt: () => simulator().updateCampaign(CAMPAIGN, { status: 'ACTIVE' }),
    },
    {
      check: `campaign is active and warmed up: campaign ${CAMPAIGN} was created 5 minutes ago`,
      fix: 'wait until',
      breakIt: () =>
        simulator().updateCampaign(CAMPAIGN, { createdAt: runtime.clock.now() - 5 * 60_000 }),
      mendIt: () =>
        simulator().updateCampaign(CAMPAIGN, { createdAt: runtime.clock.now() - 86_400_000 }),
    },
  ])('fails, exit code 1, naming $check', async ({ check, fix, breakIt, mendIt }) => {
    breakIt();
    try {
      const { code, stdout } = await recurrent(['doctor', '--page', PAGE]);
      expect(problems(stdout)).toEqual([expect.stringContaining(`✗ Page ${PAGE}: ${check}`)]);
      expect(stdout).toMatch(new RegExp(`\\n {4}fix: [^\\n]*${escapeRegExp(fix)}`));
      expect(stdout).not.toContain(PAGE_TOKEN);
      expect(code).toBe(1);
    } finally {
      mendIt();
    }
    expect((await recurrent(['doctor', '--page', PAGE])).code).toBe(0);
  });

  it('fails for a Page whose webhook never got a signed delivery', async () => {
    const put = await recurrent(
      ['pages', 'put', QUIET_PAGE, '--access-token', '-', '--route', 'send_api'],
      'quiet-page-token',
    );
    expect(put.code).toBe(0);
    const { code, stdout } = await recurrent(['doctor', '--page', QUIET_PAGE]);
    expect(problems(stdout)).toEqual([
      `✗ Page ${QUIET_PAGE}: webhook received a signed delivery: none received for this Page yet`,
    ]);
    expect(stdout).toContain("fix: check the app's callback URL");
    expect(code).toBe(1);
  });

  it('fails when the admin API does not answer, saying what to do', async () => {
    const { code, stderr } = await recurrent([
      'doctor',
      '--url',
      `http://127.0.0.1:${await freePort()}`,
    ]);
    expect(stderr).toContain('cannot reach');
    expect(stderr).toContain('✗ admin API answers');
    expect(stderr).toContain('fix: start the runtime (npm start)');
    expect(code).toBe(1);
  });

  it('fails while a message waits in the send DLQ', async () => {
    await createSqsClient().send(
      new SendMessageCommand({ QueueUrl: runtime.queueUrls.deadLetter, MessageBody: '{}' }),
    );
    const { code, stdout } = await recurrent(['doctor', '--page', PAGE]);
    expect(problems(stdout)).toEqual(['✗ dead-letter queues are empty: send: 1 message']);
    expect(stdout).toContain('start-message-move-task');
    expect(code).toBe(1);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
