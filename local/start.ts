import { parseArgs } from 'node:util';
import * as z from 'zod';
import { ConfigError, graphEnv, readConfig } from '#lib/config.ts';
import { createLogger } from '#lib/logger.ts';
import { runDemo } from './demo.ts';
import { EmulatorStartError } from './emulators.ts';
import { memoryOf } from './memory.ts';
import { madeUpSecret, type Runtime, startRuntime } from './runtime.ts';
import { parseFaults } from './simulator-control.ts';

/** `npm start`: the whole system on one machine, configured from the environment. */
const localConfigSchema = z.object({
  PORT: z.coerce.number().int().min(1).max(65_535).default(3000),
  META_APP_SECRET: z.string().min(1).optional(),
  META_VERIFY_TOKEN: z.string().min(1).optional(),
  ADMIN_TOKEN: z.string().min(1).optional(),
  META_GRAPH_URL: z.url().optional(),
  META_GRAPH_VERSION: graphEnv.META_GRAPH_VERSION,
  DATA_DIR: z.string().min(1).optional(),
  CLOCK_START: z.iso
    .datetime({ offset: true })
    .transform((value) => Date.parse(value))
    .optional(),
  CLOCK_SPEED: z.coerce.number().positive().default(1),
  /** JSON fault settings for the built-in Meta simulator, e.g. {"serverErrorRate":0.2}. */
  META_SIMULATOR_FAULTS: z.string().min(1).optional(),
});

async function main(): Promise<void> {
  const { values: flags } = parseArgs({
    options: {
      demo: { type: 'boolean', default: false },
      people: { type: 'string', default: '1000' },
    },
  });
  const people = Number(flags.people);
  if (!Number.isInteger(people) || people < 1)
    throw new ConfigError('--people takes a whole number from 1');
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
  // The demo prints its own progress and tallies (deferrals included): only errors interrupt it.
  const { logger, log } = createLogger('local', flags.demo ? 'ERROR' : undefined);
  const simulatorFaults = config.META_SIMULATOR_FAULTS
    ? parseFaultsVariable(config.META_SIMULATOR_FAULTS)
    : undefined;
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
    // The demo lives through a week from next Monday, on jumps of the clock.
    ...(flags.demo &&
      config.CLOCK_START === undefined && { clockStart: nextMondayUtc(Date.now()) }),
    clockSpeed: config.CLOCK_SPEED,
    // Its jumps skip idle hours: one run per schedule reads all of them, as after downtime.
    ...(flags.demo && { scheduleCatchUp: 'latest-run' as const }),
    log,
    logger,
    ...(simulatorFaults && { simulatorFaults }),
  });
  if (flags.demo) {
    await demo(runtime, { people, adminToken, startedMs: performance.now() - started });
    return;
  }
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

async function demo(
  runtime: Runtime,
  options: { people: number; adminToken: string; startedMs: number },
): Promise<void> {
  console.log(
    `Recurrent demo on ${runtime.url}: up in ${(options.startedMs / 1000).toFixed(1)} s; ${options.people} simulated people`,
  );
  const atRest = await memoryOf(runtime);
  let peak = atRest;
  const sampler = setInterval(async () => {
    const now = await memoryOf(runtime);
    if (now.totalMb > peak.totalMb) peak = now;
  }, 1_000);
  const started = performance.now();
  try {
    const result = await runDemo(runtime, {
      people: options.people,
      adminToken: options.adminToken,
      write: (text) => process.stdout.write(text),
      live: process.stdout.isTTY === true,
    });
    clearInterval(sampler);
    console.log(
      `  ${result.sent} sends in ${((performance.now() - started) / 1000).toFixed(0)} s; memory (this process + DynamoDB Local) at rest ${atRest.totalMb} MB, peak ${peak.totalMb} MB`,
    );
    await runtime.stop();
    process.exit(result.ok ? 0 : 1);
  } catch (error: unknown) {
    clearInterval(sampler);
    await runtime.stop();
    throw error;
  }
}

function parseFaultsVariable(text: string) {
  try {
    return parseFaults(JSON.parse(text));
  } catch (error: unknown) {
    throw new ConfigError(
      `META_SIMULATOR_FAULTS: ${error instanceof Error ? error.message : 'not JSON'}`,
    );
  }
}

/** 00:00 UTC of the Monday after `now`. */
function nextMondayUtc(now: number): number {
  const date = new Date(now);
  const daysAhead = (8 - date.getUTCDay()) % 7 || 7;
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + daysAhead);
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
