import { readFile } from 'node:fs/promises';
import { runForecast } from './rules-forecast.ts';
import { runStack } from './rules-stack.ts';
import { runYear } from './rules-year.ts';
import { printTable, writeResult } from './support.ts';

/**
 * `npm run bench -- rules`: Meta's 2026 rules against Recurrent's sender, twice.
 * - A simulated year of 10,000 people over the real fan-out and sender on in-memory ports,
 *   Meta played by the simulator's rule model (`rules-year.ts`).
 * - 30 days of 1,000 people on the whole stack: `npm start`'s runtime, DynamoDB Local, fauxqs
 *   and the simulator over HTTP on the virtual clock (`rules-stack.ts`). The work itself bounds
 *   the run (each send's calls to DynamoDB Local, and three fan-out runs per step): about 25 s
 *   per simulated day on a quiet 2-core machine.
 * Each prints and writes bench/results/rules.json: calls Meta refused by rule (target 0 beyond
 * each person's first frequency cap of a day), sends made over the sends the rules allowed
 * (target at least 0.98; `rules-allowed.ts` defines them), outcomes by reason and the run time.
 * - The frequency-cap forecast (`rules-forecast.ts`): 1,000 people over 60 days in memory,
 *   with organic traffic the Page sees half of, run without and with the forecast.
 * `--quick` runs small worlds for a check (a minute or two); `--year-only`, `--stack-only`,
 * `--forecast-only`; `--people N` and `--days N` size the world of the parts that run (results
 * in rules-custom).
 */
const args = process.argv.slice(2);
const quick = args.includes('--quick');
/** `--people N`, `--days N`: a smaller (or larger) world for a look, written to rules-custom. */
const flag = (name: string) => {
  const at = args.indexOf(name);
  const value = at === -1 ? undefined : Number(args[at + 1]);
  if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
    throw new Error(`${name} needs a whole number above 0`);
  }
  return value;
};
const custom = { people: flag('--people'), days: flag('--days') };
const sized = (people: number, days: number): [number, number] => [
  custom.people ?? people,
  custom.days ?? days,
];

type Run = Awaited<ReturnType<typeof runYear>> | Awaited<ReturnType<typeof runStack>>;

/** Which parts run: every one, or the one a `--<part>-only` flag names. */
const PARTS = ['year', 'stack', 'forecast'] as const;
const only = PARTS.find((part) => args.includes(`--${part}-only`));
const runs = (part: (typeof PARTS)[number]) => only === undefined || only === part;

function show(title: string, run: Run) {
  console.log(`\n${title}`);
  printTable([
    { figure: 'refused by rule (target 0)', value: run.refusedByRule.total },
    ...Object.entries(run.refusedByRule.byRule).map(([rule, n]) => ({
      figure: `  of which ${rule}`,
      value: n,
    })),
    {
      figure: 'first frequency caps of a day (apart)',
      value: run.refusedByRule.firstFrequencyCaps,
    },
    {
      figure: 'first refusals after an MM opt-out (apart)',
      value: 'firstOptOutRefusals' in run.refusedByRule ? run.refusedByRule.firstOptOutRefusals : 0,
    },
    { figure: 'sends made', value: run.sent.total },
    { figure: 'sends the rules allowed', value: run.allowed.total },
    { figure: 'made / allowed (target >= 0.98)', value: run.ratio },
    { figure: 'run time (s)', value: run.runSeconds },
    ...Object.entries('phaseSeconds' in run ? run.phaseSeconds : {}).map(([phase, seconds]) => ({
      figure: `  of which ${phase} (s)`,
      value: seconds,
    })),
  ]);
  console.log('\noutcomes of send jobs, by reason');
  printTable(
    Object.entries(run.outcomes)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([outcome, n]) => ({ outcome, jobs: n })),
  );
}

const isCustom = custom.people !== undefined || custom.days !== undefined;
const name = isCustom ? 'rules-custom' : quick ? 'rules-quick' : 'rules';
// A run of one part keeps the other part's last figures; each part carries its own date.
const results: Record<string, unknown> = await previousParts(name);
if (runs('year')) {
  const [people, days] = quick ? sized(1_000, 60) : sized(10_000, 365);
  console.log(`rules, in memory: ${people} people, ${days} days (the real fan-out and sender)`);
  const year = await runYear({ people, days, seed: 2026 });
  results.year = { measuredAt: new Date().toISOString(), ...year };
  show('in memory', year);
}
if (runs('stack')) {
  const [people, days] = quick ? sized(100, 7) : sized(1_000, 30);
  console.log(
    `\nrules, whole stack: ${people} people, ${days} days (runtime, DynamoDB Local, fauxqs, simulator)`,
  );
  const stack = await runStack({ people, days, seed: 2026 });
  results.stack = { measuredAt: new Date().toISOString(), ...stack };
  show('whole stack', stack);
}
if (runs('forecast')) {
  const [people, days] = quick ? sized(200, 14) : sized(1_000, 60);
  console.log(`\nrules, frequency-cap forecast: ${people} people, ${days} days, run twice`);
  const forecast = await runForecast({ people, days, seed: 2026 });
  results.forecast = { measuredAt: new Date().toISOString(), ...forecast };
  showForecast(forecast);
}
const file = await writeResult(name, results);
console.log(`\nwritten to ${file}`);

/** The forecast part: Meta's frequency-cap refusals without and with it, side by side. */
function showForecast(run: Awaited<ReturnType<typeof runForecast>>) {
  console.log(
    `\nfrequency-cap forecast (Page share of conversations ${run.organic.pageShare}, other businesses' marketing ${run.organic.othersMarketingPerDay} a day)`,
  );
  printTable(
    Object.keys(run.without).map((figure) => ({
      figure,
      without: run.without[figure as keyof typeof run.without],
      with: run.with[figure as keyof typeof run.with],
    })),
  );
  console.log(`\n${run.note}`);
}

/** The parts of the last result file this run does not measure again. */
async function previousParts(file: string): Promise<Record<string, unknown>> {
  try {
    const text = await readFile(new URL(`./results/${file}.json`, import.meta.url), 'utf8');
    const { measuredAt, year, stack, forecast } = JSON.parse(text);
    // Files from before each part carried a date: the year's is the file's.
    const kept: Record<string, unknown> = {};
    if (!runs('year') && year) kept.year = { measuredAt, ...year };
    if (!runs('stack') && stack) kept.stack = stack;
    if (!runs('forecast') && forecast) kept.forecast = forecast;
    return kept;
  } catch {
    return {};
  }
}
