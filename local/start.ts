import * as z from 'zod';
import { ConfigError, readConfig } from '#lib/config.ts';
import { createLogger } from '#lib/logger.ts';
import { EmulatorStartError } from './emulators.ts';
import { madeUpSecret, type Runtime, startRuntime } from './runtime.ts';

/** `npm start`: the whole system on one machine, configured from the environment. */
const localConfigSchema = z.object({
  PORT: z.coerce.number().int().min(1).max(65_535).default(3000),
  META_APP_SECRET: z.string().min(1).optional(),
  META_VERIFY_TOKEN: z.string().min(1).optional(),
  ADMIN_TOKEN: z.string().min(1).optional(),
  META_GRAPH_URL: z.url().optional(),
  META_GRAPH_VERSION: z
    .string()
    .regex(/^v\d+\.\d+$/)
    .default('v24.0'),
  DATA_DIR: z.string().min(1).optional(),
  CLOCK_START: z.iso
    .datetime({ offset: true })
    .transform((value) => Date.parse(value))
    .optional(),
  CLOCK_SPEED: z.coerce.number().positive().default(1),
});

async function main(): Promise<void> {
  const config = readConfig(localConfigSchema, process.env);
  const madeUp: string[] = [];
  const orMadeUp = (value: string | undefined, name: string, make: () => string) => {
    if (value !== undefined) return value;
    const made = make();
    madeUp.push(`${name}=${made}`);
    return made;
  };
  const appSecret = orMadeUp(config.META_APP_SECRET, 'META_APP_SECRET', madeUpSecret);
  const verifyToken = orMadeUp(
    config.META_VERIFY_TOKEN,
    'META_VERIFY_TOKEN',
    () => 'recurrent-dev',
  );
  const adminToken = orMadeUp(config.ADMIN_TOKEN, 'ADMIN_TOKEN', madeUpSecret);
  const log = createLogger('local');
  const started = performance.now();
  const runtime = await startRuntime({
    port: config.PORT,
    appSecret,
    verifyToken,
    adminToken,
    ...(config.META_GRAPH_URL && { graphUrl: config.META_GRAPH_URL }),
    graphVersion: config.META_GRAPH_VERSION,
    ...(config.DATA_DIR && { dataDir: config.DATA_DIR }),
    ...(config.CLOCK_START !== undefined && { clockStart: config.CLOCK_START }),
    clockSpeed: config.CLOCK_SPEED,
    log,
  });
  printBanner(runtime, {
    madeUp,
    adminTokenGiven: config.ADMIN_TOKEN !== undefined,
    startedMs: performance.now() - started,
  });
  stopOnSignals(runtime);
}

function printBanner(
  runtime: Runtime,
  facts: { madeUp: string[]; adminTokenGiven: boolean; startedMs: number },
): void {
  const { url } = runtime;
  const lines = [
    '',
    `Recurrent is up on ${url} (in ${(facts.startedMs / 1000).toFixed(1)} s)`,
    `  webhook       ${url}/webhook`,
    `  admin API     ${url}/admin  (Authorization: Bearer $ADMIN_TOKEN)`,
    `  health        ${url}/health`,
    `  clock         ${new Date(runtime.clock.now()).toISOString()}, speed ${runtime.clock.speed}x (POST ${url}/_local/clock {"now": "..."} moves it forward)`,
    runtime.simulator
      ? `  Meta          the built-in simulator at ${runtime.simulator.url} (set META_GRAPH_URL to use another)`
      : '  Meta          META_GRAPH_URL',
  ];
  if (facts.madeUp.length > 0) {
    lines.push('', 'Development defaults made up for what was not configured:');
    for (const entry of facts.madeUp) lines.push(`  ${entry}`);
  }
  const token = facts.adminTokenGiven
    ? '$ADMIN_TOKEN'
    : (facts.madeUp.find((entry) => entry.startsWith('ADMIN_TOKEN='))?.split('=')[1] ??
      '$ADMIN_TOKEN');
  lines.push(
    '',
    'Next:',
    `  curl ${url}/health`,
    `  curl -X PUT ${url}/admin/pages/1001 -H 'Authorization: Bearer ${token}' -d '{"accessToken":"page-token","timezone":"Europe/Paris"}'`,
    '  npm start -- --demo     a simulated week with 1,000 people, then a summary',
    '  Ctrl-C stops everything.',
    '',
  );
  console.log(lines.join('\n'));
}

function stopOnSignals(runtime: Runtime): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: finishing in-flight work and stopping...`);
    await runtime.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof EmulatorStartError) {
    console.error(`Recurrent cannot start: ${error.message}`);
  } else {
    console.error('Recurrent cannot start:', error);
  }
  process.exit(1);
});
