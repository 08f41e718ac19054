import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '#lib/clock.ts';
import { type MetaSimulator, startMetaSimulator } from '../../local/meta-simulator/index.ts';

const PAGE = '1001';
const PAGE_TOKEN = 'page-token-1001';
/** How long this process's event loop is kept busy right after the first call left. */
const BUSY_MS = 400;
/** When the second call leaves, after the first: past a second from its arrival. */
const SECOND_CALL_AFTER_MS = 1_100;

/**
 * Two calls from another process: the first, then the second `SECOND_CALL_AFTER_MS` later;
 * prints each answer's status. It warms its connection first on the health route, which no
 * limit counts, and starts on "go".
 */
const CLIENT = `
const [base, path] = process.argv.slice(1);
const send = () => fetch(base + path, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ recipient: { id: '5001' }, message: { text: 'hello' } }),
}).then((answer) => answer.status);
await fetch(base + '/_simulator/health');
process.stdout.write('ready\\n');
process.stdin.once('data', async () => {
  const first = send();
  await new Promise((resolve) => setTimeout(resolve, ${SECOND_CALL_AFTER_MS}));
  process.stdout.write(JSON.stringify([await first, await send()]) + '\\n');
  process.exit(0);
});
`;

let sim: MetaSimulator | undefined;

afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

/** A Page allowed one call a second, and a person who wrote to it (so a reply may go out). */
async function startWith(options: { arrivalFront?: { realNowSpeed?: number } }) {
  sim = await startMetaSimulator({
    clock: systemClock,
    realNow: () => Date.now(),
    appSecret: 'arrival-front-secret',
    pages: [{ id: PAGE, accessToken: PAGE_TOKEN, timezone: 'UTC', ratePerSecond: 1 }],
    ...options,
  });
  sim.addPerson({ pageId: PAGE, psid: '5001' });
  sim.personWrites(PAGE, '5001');
  return sim;
}

/**
 * The client's two calls, with this process's event loop busy for `BUSY_MS` just after the
 * first left: the simulator's handler cannot run the first call until then.
 */
async function twoCallsWhileBusy(simulator: MetaSimulator): Promise<number[]> {
  const client = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      CLIENT,
      simulator.url,
      `/v24.0/${PAGE}/messages?access_token=${PAGE_TOKEN}`,
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines: string[] = [];
  client.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    lines.push(...chunk.split('\n').filter(Boolean));
  });
  while (!lines.includes('ready')) await once(client.stdout, 'data');
  client.stdin.write('go\n');
  const until = Date.now() + BUSY_MS;
  while (Date.now() < until) {
    // Busy on purpose: a loaded host, as when the sender shares this process.
  }
  await once(client, 'exit');
  return JSON.parse(lines.at(-1) ?? '[]') as number[];
}

describe('the arrival front', () => {
  it('counts a call against the Page’s rate when it arrived, not when a busy host got to it', async () => {
    const simulator = await startWith({ arrivalFront: {} });

    const statuses = await twoCallsWhileBusy(simulator);

    expect(statuses).toEqual([200, 200]);
    const [first, second] = simulator.sent();
    // Handled after the busy spell, stamped as it arrived, about a second before the next.
    expect((first?.at ?? 0) - (first?.arrivedAt ?? 0)).toBeGreaterThan(BUSY_MS / 2);
    expect((second?.arrivedAt ?? 0) - (first?.arrivedAt ?? 0)).toBeGreaterThan(1_000);
  });

  it('without it, counts the first call late, and the second falls in the same second', async () => {
    const simulator = await startWith({});

    const statuses = await twoCallsWhileBusy(simulator);

    expect(statuses[0]).toBe(200);
    expect(statuses[1]).not.toBe(200);
    expect(simulator.rateLimitErrors()).toBe(1);
  });
});
