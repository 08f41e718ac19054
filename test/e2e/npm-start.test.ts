import type { ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../local/emulators.ts';
import { startChildRuntime, waitHealthy } from '../reliability/support/child-runtime.ts';

/** `npm start` as a newcomer runs it: a child process, a clean data dir, then /health. */
const children: ChildProcess[] = [];

function start(env: Record<string, string>) {
  const runtime = startChildRuntime(env);
  children.push(runtime.child);
  return runtime;
}

afterEach(() => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

describe('npm start', () => {
  it('comes up healthy from a clean data dir, prints what to do next, and stops on SIGTERM', async () => {
    const port = await freePort();
    const dataDir = await mkdtemp(join(tmpdir(), 'recurrent-start-'));
    const runtime = start({
      PORT: String(port),
      DATA_DIR: dataDir,
      META_APP_SECRET: 'given-app-secret-never-printed',
    });
    await waitHealthy(`http://localhost:${port}`, runtime);
    runtime.child.kill('SIGTERM');
    const code = await runtime.exited;
    const { output } = runtime;

    expect(output.text).toContain(`Recurrent is up on http://localhost:${port}`);
    expect(output.text).toMatch(/ADMIN_TOKEN=[0-9a-f]{32}/);
    expect(output.text).toContain('Next:');
    expect(output.text).not.toContain('given-app-secret-never-printed');
    expect(code).toBe(0);
  }, 120_000);

  it('exits non-zero with a clear message when its port is taken', async () => {
    const blocker = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));

    const { output, exited } = start({ PORT: String(port) });
    const code = await exited;
    blocker.close();

    expect(code).toBe(1);
    expect(output.text).toContain(`Port ${port} for the Recurrent HTTP server is already in use`);
  }, 30_000);

  it('exits non-zero naming the variable when the simulator fault settings are bad', async () => {
    const { output, exited } = start({
      PORT: String(await freePort()),
      META_SIMULATOR_FAULTS: '{"timeoutRate": "often"}',
    });
    const code = await exited;

    expect(code).toBe(1);
    expect(output.text).toMatch(/META_SIMULATOR_FAULTS: faults: timeoutRate/);
  }, 30_000);

  it('exits non-zero with a clear message when Java is missing', async () => {
    const { output, exited } = start({ PORT: String(await freePort()), PATH: '/nonexistent' });
    const code = await exited;

    expect(code).toBe(1);
    expect(output.text).toMatch(/Java 17 or newer is needed for DynamoDB Local/);
  }, 30_000);
});
