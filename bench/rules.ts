import { runStack } from './rules-stack.ts';
import { runYear } from './rules-year.ts';
import { printTable, writeResult } from './support.ts';

/**
 * `npm run bench -- rules`: Meta's 2026 rules against Recurrent's sender, twice.
 * - A simulated year of 10,000 people over the real fan-out and sender on in-memory ports,
 *   Meta played by the simulator's rule model (`rules-year.ts`).
 * - 30 days of 1,000 people on the whole stack: `npm start`'s runtime, DynamoDB Local, fauxqs
 *   and the simulator over HTTP on the virtual clock (`rules-stack.ts`).
 * Each prints and writes bench/results/rules.json: calls Meta refused by rule (target 0 beyond
 * each person's first frequency cap of a day), sends made over the sends the rules allowed
 * (target at least 0.98; `rules-allowed.ts` defines them), outcomes by reason and the run time.
 * `--quick` runs small worlds for a check (a minute or two); `--year-only`, `--stack-only`.
 */
const args = process.argv.slice(2);
const quick = args.includes('--quick');

type Run = Awaited<ReturnType<typeof runYear>> | Awaited<ReturnType<typeof runStack>>;

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
  ]);
  console.log('\noutcomes of send jobs, by reason');
  printTable(
    Object.entries(run.outcomes)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([outcome, n]) => ({ outcome, jobs: n })),
  );
}

const results: Record<string, Run> = {};
if (!args.includes('--stack-only')) {
  const [people, days] = quick ? [1_000, 60] : [10_000, 365];
  console.log(`rules, in memory: ${people} people, ${days} days (the real fan-out and sender)`);
  results.year = await runYear({ people, days, seed: 2026 });
  show('in memory', results.year);
}
if (!args.includes('--year-only')) {
  const [people, days] = quick ? [100, 7] : [1_000, 30];
  console.log(
    `\nrules, whole stack: ${people} people, ${days} days (runtime, DynamoDB Local, fauxqs, simulator)`,
  );
  results.stack = await runStack({ people, days, seed: 2026 });
  show('whole stack', results.stack);
}
const file = await writeResult(quick ? 'rules-quick' : 'rules', results);
console.log(`\nwritten to ${file}`);
