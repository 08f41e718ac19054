import type { GraphErrorSpec, RuleBreach } from './graph-errors.ts';

/**
 * The calls Meta refused by rule, apart from the faults a test injects: the figure a sender is
 * judged by. Two refusals no sender can foresee are counted apart: a person's first frequency
 * cap in 24 hours (caps count across all businesses; a second one within 24 hours it could
 * have foreseen), and the first MM send after an opt-out Meta sent no webhook for.
 */

const DAY_MS = 24 * 3_600_000;

/** The counts, as the simulator's status shows them. */
export interface RuleRefusals {
  /** Every refusal by rule a sender could have avoided. */
  total: number;
  byRule: Partial<Record<RuleBreach, number>>;
  /** First frequency caps of a person in 24 hours: not in `total`. */
  firstFrequencyCaps: number;
  /** First refusals (2300034) after an MM opt-out without a webhook: not in `total`. */
  firstOptOutRefusals: number;
}

export type RuleRefusalCounter = ReturnType<typeof createRuleRefusals>;

/** Counts each refusal the model answers; `person` names whom a frequency cap concerned. */
export function createRuleRefusals() {
  const counts: RuleRefusals = {
    total: 0,
    byRule: {},
    firstFrequencyCaps: 0,
    firstOptOutRefusals: 0,
  };
  const lastCap = new Map<string, number>();
  return {
    count(error: GraphErrorSpec, person: string | undefined, now: number): void {
      const { rule } = error;
      if (rule === undefined) return;
      if (rule === 'unannounced_stop') {
        counts.firstOptOutRefusals += 1;
        return;
      }
      if (rule === 'frequency_cap' && person !== undefined) {
        const previous = lastCap.get(person);
        if (previous === undefined || now - previous >= DAY_MS) {
          lastCap.set(person, now);
          counts.firstFrequencyCaps += 1;
          return;
        }
      }
      counts.total += 1;
      counts.byRule[rule] = (counts.byRule[rule] ?? 0) + 1;
    },
    snapshot(): RuleRefusals {
      return { ...counts, byRule: { ...counts.byRule } };
    },
  };
}
