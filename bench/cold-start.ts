import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Metafile } from 'esbuild';
import * as z from 'zod';
import { bundleFunction } from './bundle-size.ts';
import { printTable, summarise, writeResult } from './support.ts';

/**
 * Cold-start cost of each Lambda bundle: its size, and the time a fresh Node process takes to
 * import it (the init phase's module load, before any invocation reads configuration).
 */
export const FUNCTIONS = ['webhook', 'fanout', 'sender', 'admin'] as const;

/** What a bundle should stay under: 400 KB minified, imported in under 150 ms. */
export const TARGETS = { bundleBytes: 400_000, importMs: 150 } as const;

/**
 * Under the project's `node_modules`, so the bundles' external `@aws-sdk/*` imports resolve
 * by walking up parent directories, as they resolve to the runtime's SDK on Lambda.
 */
const DEFAULT_OUT_DIR = new URL('../node_modules/.cache/recurrent-bench/', import.meta.url);

export interface ColdStartOptions {
  /** @default every function in `functions/` */
  functions?: readonly string[];
  /** Fresh processes per measurement, after one untimed warm-up. @default 7 */
  runs?: number;
  /** Where `<name>/index.mjs` is written; must resolve the project's `node_modules`. */
  outDir?: URL;
  /** Run with `--enable-source-maps`, as the functions' `NODE_OPTIONS` does. @default true */
  sourceMaps?: boolean;
}

type Summary = ReturnType<typeof summarise>;

/** One function's cold-start figures, in milliseconds unless named otherwise. */
export interface ColdStart {
  name: string;
  bundleBytes: number;
  /** The external packages the bundle imports, left to the runtime. */
  sdkPackages: string[];
  /** From the start of `import()` to the module evaluated. */
  importMs: Summary;
  /** From the Node process's time origin to the module evaluated. */
  processMs: Summary;
  /** Importing `sdkPackages` alone, in a fresh process: the share of `importMs` not ours. */
  sdkImportMs: Summary;
  underTargets: { bundle: boolean; import: boolean };
}

const probeOutput = z.object({ importMs: z.number(), processMs: z.number() });

/** Bundles each function as the CDK does, writes it, and times its import in fresh processes. */
export async function measureColdStarts(options: ColdStartOptions = {}): Promise<ColdStart[]> {
  const { functions = FUNCTIONS, runs = 7, outDir = DEFAULT_OUT_DIR, sourceMaps = true } = options;
  const results: ColdStart[] = [];
  for (const name of functions) {
    const bundle = await bundleFunction(`functions/${name}.ts`);
    const dir = new URL(`${name}/`, outDir);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const file = new URL('index.mjs', dir);
    await writeFile(file, bundle.code);
    await writeFile(new URL('index.mjs.map', dir), bundle.sourceMap);

    const sdkPackages = externalPackages(bundle.metafile);
    const probeBundle = probeScript([file.href], true);
    const probeSdk = probeScript(sdkPackages, false);
    const flags = sourceMaps ? ['--enable-source-maps'] : [];
    const cwd = fileURLToPath(dir);
    // Warm-up: the first process pays for reading node_modules from disk, the later ones not.
    await probe(flags, probeBundle, cwd);
    await probe(flags, probeSdk, cwd);
    const bundleSamples = [];
    const sdkSamples = [];
    for (let run = 0; run < runs; run++) {
      bundleSamples.push(await probe(flags, probeBundle, cwd));
      sdkSamples.push((await probe(flags, probeSdk, cwd)).importMs);
    }
    const importMs = summarise(bundleSamples.map((sample) => sample.importMs));
    results.push({
      name,
      bundleBytes: bundle.code.length,
      sdkPackages,
      importMs,
      processMs: summarise(bundleSamples.map((sample) => sample.processMs)),
      sdkImportMs: summarise(sdkSamples),
      underTargets: {
        bundle: bundle.code.length < TARGETS.bundleBytes,
        import: importMs.median < TARGETS.importMs,
      },
    });
  }
  return results;
}

/** The bare package names a bundle leaves external (Node's built-ins aside). */
function externalPackages(metafile: Metafile): string[] {
  const imports = Object.values(metafile.outputs).flatMap((output) => output.imports);
  const paths = imports
    .filter((entry) => entry.external && !entry.path.startsWith('node:'))
    .map((entry) => entry.path);
  return [...new Set(paths)].sort();
}

/** A module script that imports the specifiers and prints the timings as one JSON line. */
function probeScript(specifiers: readonly string[], expectHandler: boolean): string {
  const check = expectHandler
    ? "if (typeof modules[0]?.handler !== 'function') throw new Error('no handler export');"
    : '';
  return [
    'const started = performance.now();',
    `const modules = await Promise.all(${JSON.stringify(specifiers)}.map((s) => import(s)));`,
    'const loaded = performance.now();',
    check,
    'console.log(JSON.stringify({ importMs: loaded - started, processMs: loaded }));',
  ].join('\n');
}

/** Runs a probe in a fresh Node process with an empty environment: no AWS config, no region. */
function probe(
  flags: readonly string[],
  script: string,
  cwd: string,
): Promise<z.infer<typeof probeOutput>> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...flags, '--input-type=module', '--eval', script],
      { cwd, env: {} },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`import in ${cwd} failed: ${stderr.trim() || error.message}`));
          return;
        }
        try {
          resolve(probeOutput.parse(JSON.parse(stdout)));
        } catch (cause: unknown) {
          reject(new Error(`unexpected probe output from ${cwd}: ${stdout}`, { cause }));
        }
      },
    );
  });
}

const yesNo = (ok: boolean) => (ok ? 'yes' : 'no');

if (import.meta.main) {
  // `--quick`: two imports of each bundle.
  const fallback = process.argv.includes('--quick') ? 2 : 7;
  const runs = z.coerce
    .number()
    .int()
    .positive()
    .default(fallback)
    .parse(process.env.COLD_START_RUNS);
  try {
    const results = await measureColdStarts({ runs });
    printTable(
      results.map((result) => ({
        function: result.name,
        bytes: result.bundleBytes,
        KiB: (result.bundleBytes / 1024).toFixed(1),
        '< 400 KB': yesNo(result.underTargets.bundle),
        'import ms': result.importMs.median.toFixed(1),
        'min ms': result.importMs.min.toFixed(1),
        'max ms': result.importMs.max.toFixed(1),
        '< 150 ms': yesNo(result.underTargets.import),
        'SDK alone ms': result.sdkImportMs.median.toFixed(1),
        'process→loaded ms': result.processMs.median.toFixed(1),
        runs: result.importMs.runs,
      })),
    );
    console.log('import ms: median of fresh processes, with --enable-source-maps as on Lambda');
    const file = await writeResult('cold-start', {
      node: process.version,
      sourceMaps: true,
      targets: TARGETS,
      results,
    });
    console.log(`written to ${file}`);
  } catch (error: unknown) {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  }
}
