import * as z from 'zod';
import type { UsageReport } from '../domain/sending/rate-bucket.ts';

const percent = z.coerce.number().finite().nonnegative().catch(0);

/** One usage reading: `X-App-Usage`, `X-Page-Usage`, or an entry of the business header. */
const usageEntry = z.object({
  call_count: percent.optional(),
  total_time: percent.optional(),
  total_cputime: percent.optional(),
  /** Minutes until the app may call again. */
  estimated_time_to_regain_access: percent.optional(),
});
type UsageEntry = z.infer<typeof usageEntry>;

/** `X-Business-Use-Case-Usage`: `{"<business id>": [{type, call_count, ..., estimated_time_to_regain_access}]}`. */
const businessUsage = z.record(z.string(), z.array(z.unknown()));

const MINUTE_MS = 60_000;

/**
 * Reads Meta's usage headers (JSON, percentages of the limit, the wait in minutes) into the
 * highest percentage and the longest announced wait; undefined when no header says anything.
 * A malformed header is ignored: it must never fail a send that Meta accepted.
 */
export function parseUsageHeaders(headers: {
  get(name: string): string | null;
}): UsageReport | undefined {
  const entries: UsageEntry[] = [];
  const add = (value: unknown) => {
    const entry = usageEntry.safeParse(value);
    if (entry.success && Object.values(entry.data).some((field) => field !== undefined)) {
      entries.push(entry.data);
    }
  };
  add(parseJson(headers.get('x-app-usage')));
  add(parseJson(headers.get('x-page-usage')));
  const business = businessUsage.safeParse(parseJson(headers.get('x-business-use-case-usage')));
  if (business.success) {
    for (const list of Object.values(business.data)) list.forEach(add);
  }
  if (entries.length === 0) return undefined;
  let highest = 0;
  let regainMinutes = 0;
  for (const entry of entries) {
    highest = Math.max(
      highest,
      entry.call_count ?? 0,
      entry.total_time ?? 0,
      entry.total_cputime ?? 0,
    );
    regainMinutes = Math.max(regainMinutes, entry.estimated_time_to_regain_access ?? 0);
  }
  return { percent: highest, regainAccessMs: regainMinutes * MINUTE_MS };
}

function parseJson(text: string | null): unknown {
  if (text === null || text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
