import { randomBytes } from 'node:crypto';
import { paginateScan } from '@aws-sdk/lib-dynamodb';
import { createDynamoClient } from '#lib/aws/clients.ts';
import { signBody } from '#lib/http/meta-signature.ts';
import { freePort } from '../../../local/emulators.ts';
import type { MetaSimulator } from '../../../local/meta-simulator/index.ts';
import { type Runtime, type RuntimeOptions, startRuntime } from '../../../local/runtime.ts';
import { captureLog } from '../../support/capture-log.ts';

/** One answer of the runtime's HTTP server. */
export interface Answer {
  status: number;
  text: string;
}

/** Made-up secrets: random, so a leak scan cannot match them by accident. */
export function aSecret(label: string): string {
  return `${label}-${randomBytes(12).toString('hex')}`;
}

/**
 * `npm start`'s runtime in this process on the test emulators, with its own table and queues,
 * captured logs, and every answer body kept for the leak scans.
 */
export async function startHarness(
  name: string,
  options: Partial<
    Pick<RuntimeOptions, 'clockStart' | 'clockSpeed' | 'graphTimeoutMs' | 'graphUrl' | 'appSecret'>
  > = {},
) {
  const log = captureLog();
  const appSecret = options.appSecret ?? aSecret('app-secret');
  const adminToken = aSecret('admin-token');
  const verifyToken = aSecret('verify-token');
  const runtime: Runtime = await startRuntime({
    port: await freePort(),
    appSecret,
    verifyToken,
    adminToken,
    graphVersion: 'v24.0',
    clockSpeed: 1,
    log,
    tableName: `${name}-${randomBytes(4).toString('hex')}`,
    useRunningEmulators: true,
    ...options,
  });
  const answers: Answer[] = [];
  const dynamo = createDynamoClient();

  async function request(
    method: string,
    path: string,
    init: { body?: string | Buffer; headers?: Record<string, string> } = {},
  ): Promise<Answer> {
    const response = await fetch(`${runtime.url}${path}`, {
      method,
      headers: init.headers ?? {},
      ...(init.body !== undefined && { body: init.body }),
    });
    const answer = { status: response.status, text: await response.text() };
    answers.push(answer);
    return answer;
  }

  return {
    runtime,
    log,
    answers,
    secrets: { appSecret, adminToken, verifyToken },
    dynamo,
    get simulator(): MetaSimulator {
      if (!runtime.simulator) throw new Error('this runtime runs without its simulator');
      return runtime.simulator;
    },
    request,

    /** An admin call with the bearer token (or `bearer` instead, or none when null). */
    admin(method: string, path: string, body?: unknown, bearer: string | null = adminToken) {
      return request(method, path, {
        headers: {
          'content-type': 'application/json',
          ...(bearer !== null && { authorization: `Bearer ${bearer}` }),
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
    },

    /** A webhook delivery signed as Meta signs it (the exact bytes, the app secret). */
    webhook(body: string | Buffer) {
      return request('POST', '/webhook', {
        body,
        headers: {
          'content-type': 'application/json',
          'x-hub-signature-256': signBody(body, appSecret),
        },
      });
    },

    async moveClock(to: number): Promise<void> {
      const answer = await request('POST', '/_local/clock', {
        body: JSON.stringify({ now: new Date(to).toISOString() }),
      });
      if (answer.status !== 200) throw new Error(`the clock did not move: ${answer.text}`);
    },

    /** Every item of the runtime's table. */
    async items(): Promise<Record<string, unknown>[]> {
      const items: Record<string, unknown>[] = [];
      for await (const page of paginateScan(
        { client: dynamo },
        { TableName: runtime.tableName, ConsistentRead: true },
      )) {
        items.push(...(page.Items ?? []));
      }
      return items;
    },

    async stop(): Promise<void> {
      await runtime.stop();
    },
  };
}

export type Harness = Awaited<ReturnType<typeof startHarness>>;

/** `pk|sk` of every item: what a before/after comparison of the table looks at. */
export function itemKeys(items: readonly Record<string, unknown>[]): Set<string> {
  return new Set(items.map((item) => `${String(item.pk)}|${String(item.sk)}`));
}

/** The secrets among `secrets` that appear in any of `texts`, named by `label`, never quoted. */
export function leakedSecrets(
  texts: readonly string[],
  secrets: Readonly<Record<string, string>>,
): string[] {
  const everything = texts.join('\n');
  return Object.entries(secrets)
    .filter(([, value]) => value.length > 0 && everything.includes(value))
    .map(([label]) => label);
}

/** Waits until `done()` holds, checking every `everyMs`; false when `timeoutMs` passed first. */
export async function eventually(
  done: () => boolean | Promise<boolean>,
  timeoutMs: number,
  everyMs = 100,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await done()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
