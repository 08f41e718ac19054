import { runYear, type YearResult } from './rules-year.ts';

/**
 * The frequency-cap forecast part of the `rules` benchmark: the same simulated world (the real
 * fan-out, sender and webhook counting on in-memory ports, Meta played by the simulator's rule
 * model) run twice with organic traffic on, without the forecast and with it. People hold
 * `PAGE_SHARE` of their conversations with the Page (the webhooks the forecast counts) and the
 * rest with other businesses, which also send them marketing messages: the caps count both, and
 * no sender sees either, so the forecast cannot take every refusal away.
 */

export interface ForecastOptions {
  people: number;
  days: number;
  seed: number;
}

/** Share of a person's conversations held with the Page. */
const PAGE_SHARE = 0.5;
/** Marketing messages a day each person gets from other businesses. */
const OTHERS_PER_DAY = 0.2;

/** One run's figures: Meta's frequency-cap refusals, all of them, and what was sent. */
function figures(run: YearResult) {
  const later = run.refusedByRule.byRule.frequency_cap ?? 0;
  return {
    frequencyCapRefusals: run.refusedByRule.firstFrequencyCaps + later,
    firstFrequencyCapsOfADay: run.refusedByRule.firstFrequencyCaps,
    refusedByRule: run.refusedByRule.total,
    skippedFcapPredicted: run.outcomes['skipped:fcap-predicted'] ?? 0,
    skippedFrequencyCapped: run.outcomes['skipped:frequency-capped'] ?? 0,
    sentMarketing: run.sent.marketing_messages,
    allowedMarketing: run.allowed.marketing_messages,
    ratio: run.ratio,
    runSeconds: run.runSeconds,
  };
}

/** Runs the world without and with the forecast, and measures both. */
export async function runForecast(options: ForecastOptions) {
  const organic = { pageShare: PAGE_SHARE, othersMarketingPerDay: OTHERS_PER_DAY };
  const without = await runYear({ ...options, organic });
  const withForecast = await runYear({ ...options, organic, forecast: true });
  return {
    people: options.people,
    days: options.days,
    organic,
    note: "Meta's caps also count conversations and marketing messages of other businesses, which no sender sees: the forecast cannot foresee every refusal.",
    without: figures(without),
    with: figures(withForecast),
  };
}
