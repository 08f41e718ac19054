import { type ChildProcess, spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

/** `npm start` as a child process: what a crash test kills and starts again. */
const NODE = new URL('../../../node_modules/.bin/node', import.meta.url).pathname;
const START = new URL('../../../local/start.ts', import.meta.url).pathname;

export interface ChildRuntime {
  child: ChildProcess;
  /** Everything it printed so far. */
  output: { text: string };
  exited: Promise<number | null>;
}

/** Starts `node local/start.ts [args]` with exactly `env` (plus PATH and HOME). */
export function startChildRuntime(
  env: Record<string, string>,
  args: readonly string[] = [],
): ChildRuntime {
  const child = spawn(NODE, [START, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { text: '' };
  child.stdout?.on('data', (chunk: Buffer) => {
    output.text += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output.text += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return { child, output, exited };
}

/** Resolves when GET /health answers 200; throws with the child's output when it does not. */
export async function waitHealthy(
  url: string,
  runtime: ChildRuntime,
  timeoutMs = 90_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (runtime.child.exitCode !== null) break;
    try {
      if ((await fetch(`${url}/health`)).status === 200) return;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`npm start did not come up healthy:\n${runtime.output.text.slice(-3000)}`);
}

/** What `GET /_local/pipeline` answers: the send queue's counts and what the runtime runs. */
export interface PipelineReading {
  idle: boolean;
  drained: boolean;
  [count: string]: number | boolean;
}

/** Reads the child's send pipeline; undefined while it does not answer. */
export async function readPipeline(url: string): Promise<PipelineReading | undefined> {
  try {
    const answer = await fetch(`${url}/_local/pipeline`);
    return answer.status === 200 ? ((await answer.json()) as PipelineReading) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Kills the runtime as a crash of the machine would: SIGKILL to the node process and to the
 * DynamoDB Local JVM it started (found by its -dbPath under `dataDir`, which survives its
 * parent otherwise and keeps the files open).
 */
export async function crash(runtime: ChildRuntime, dataDir: string): Promise<void> {
  const jvms = await processesWhoseCommandHas(['-dbPath', join(dataDir, 'dynamodb')]);
  runtime.child.kill('SIGKILL');
  for (const pid of jvms) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await runtime.exited;
  await waitGone(jvms);
}

/** Stops a child cleanly (SIGTERM), or kills it and its JVM when it does not stop in time. */
export async function stopChildRuntime(runtime: ChildRuntime, dataDir: string): Promise<void> {
  if (runtime.child.exitCode === null && runtime.child.signalCode === null) {
    runtime.child.kill('SIGTERM');
    const stopped = await Promise.race([
      runtime.exited.then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 15_000)),
    ]);
    if (stopped) return;
  }
  await crash(runtime, dataDir);
}

async function processesWhoseCommandHas(parts: readonly string[]): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0');
      if (parts.every((part) => args.includes(part))) pids.push(Number(entry));
    } catch {
      // ended meanwhile
    }
  }
  return pids;
}

async function waitGone(pids: readonly number[]): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (const pid of pids) {
    while (Date.now() < deadline) {
      try {
        process.kill(pid, 0);
      } catch {
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/**
 * Counts the messages of a queue in the files of the running fauxqs (SQLite in WAL mode takes a
 * reader beside its writer): how a test sees a fan-out's progress from outside the process.
 */
export function watchQueue(dataDir: string, queueName: string) {
  const db = new DatabaseSync(join(dataDir, 'sqs', 'fauxqs.db'));
  const statement = db.prepare('SELECT COUNT(*) AS count FROM sqs_messages WHERE queue_name = ?');
  return {
    count: () => Number(statement.get(queueName)?.count ?? 0),
    close: () => db.close(),
  };
}

/** What fauxqs kept of the send queue in its files under `<dataDir>/sqs`. */
export interface PersistedQueue {
  /** Job bodies still on the queue, in flight or not. */
  bodies: string[];
  inFlight: number;
}

/**
 * Reads the send queue fauxqs persisted and lets the visibility timeout of the messages that
 * were in flight at the crash pass, as it would while the machine is down (SQS keeps a message
 * received by a dead consumer invisible for the queue's 180 s; the test does not wait them out).
 */
export function persistedQueueAfterDowntime(dataDir: string, queueName: string): PersistedQueue {
  const db = new DatabaseSync(join(dataDir, 'sqs', 'fauxqs.db'));
  try {
    const rows = db
      .prepare('SELECT body, receipt_handle FROM sqs_messages WHERE queue_name = ?')
      .all(queueName);
    const bodies = rows.map((row) => String(row.body));
    const inFlight = rows.filter((row) => row.receipt_handle !== null).length;
    db.prepare(
      'UPDATE sqs_messages SET visibility_deadline = ? WHERE queue_name = ? AND receipt_handle IS NOT NULL',
    ).run(Date.now() - 1, queueName);
    return { bodies, inFlight };
  } finally {
    db.close();
  }
}
