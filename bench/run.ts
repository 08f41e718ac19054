import { spawn } from 'node:child_process';

/**
 * `npm run bench`: every benchmark in turn, each in its own process with its own emulators.
 * `npm run bench -- fanout` runs only the named ones. Results land in bench/results/. The
 * end-to-end benchmark also prints the cost model (US$ per million sends).
 */
const BENCHMARKS: Record<string, string> = {
  webhook: 'bench/webhook-ingest.ts',
  fanout: 'bench/fanout-throughput.ts',
  sender: 'bench/sender-pacing.ts',
  'many-pages': 'bench/many-pages.ts',
  'end-to-end': 'bench/end-to-end.ts',
  'cold-start': 'bench/cold-start.ts',
  rules: 'bench/rules.ts',
};

const args = process.argv.slice(2);
const wanted = args.filter((arg) => !arg.startsWith('--') && !/^\d+$/.test(arg));
const unknown = wanted.filter((name) => !(name in BENCHMARKS));
if (unknown.length > 0) {
  console.error(
    `unknown benchmark ${unknown.join(', ')}; choose from ${Object.keys(BENCHMARKS).join(', ')}`,
  );
  process.exit(2);
}

// Flags after the names (`npm run bench -- rules --quick`) go to each benchmark.
const flags = args.filter((arg) => arg.startsWith('--') || /^\d+$/.test(arg));
let failed = false;
for (const [name, file] of Object.entries(BENCHMARKS)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  console.log(`\n== ${name} (${file})`);
  const code = await new Promise<number | null>((resolve) => {
    spawn(process.execPath, [file, ...flags], { stdio: 'inherit' }).once('exit', resolve);
  });
  if (code !== 0) {
    console.error(`${name} exited with ${code}`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
