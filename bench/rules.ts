import { runYear } from './rules-year.ts';
import { printTable, writeResult } from './support.ts';

/**
 * `npm run bench -- rules`: Meta's 2026 rules against Recurrent's sender. A simulated year of
 * 10,000 people over the real fan-out and sender on in-memory ports, Meta played by the
 * simulator's rule model. Prints and writes bench/results/rules.json: calls Meta refused by rule
 * (target 0 beyond each person's first frequency cap of a day), sends made over the sends the
 * rules allowed (target at least 0.98; `rules-allowed.ts` defines them), outcomes by reason and
 * the run time. `--quick` (or `--people N --days D`) runs a smaller world for a check.
 */
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const number = (flag: string, fallback: number) => {
  const at = args.indexOf(flag);
  const value = at < 0 ? undefined : Number(args[at + 1]);
  return value !== undefined && Number.isInteger(value) && value > 0 ? value : fallback;
};
const people = number('--people', quick ? 1_000 : 10_000);
const days = number('--days', quick ? 60 : 365);

console.log(`rules: ${people} people, ${days} days, in memory (the real fan-out and sender)`);
const year = await runYear({ people, days, seed: 2026 });
printTable([
  { figure: 'refused by rule (target 0)', value: year.refusedByRule.total },
  ...Object.entries(year.refusedByRule.byRule).map(([rule, n]) => ({
    figure: `  of which ${rule}`,
    value: n,
  })),
  { figure: 'first frequency caps of a day (apart)', value: year.refusedByRule.firstFrequencyCaps },
  { figure: 'sends made', value: year.sent.total },
  { figure: 'sends the rules allowed', value: year.allowed.total },
  { figure: 'made / allowed (target >= 0.98)', value: year.ratio },
  { figure: 'dead letters', value: year.deadLetters },
  { figure: 'run time (s)', value: year.runSeconds },
]);
console.log('\noutcomes of send jobs');
printTable(
  Object.entries(year.outcomes)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([outcome, n]) => ({ outcome, jobs: n })),
);
const file = await writeResult(quick ? 'rules-quick' : 'rules', { year });
console.log(`\nwritten to ${file}`);
