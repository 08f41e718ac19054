import type { Log } from '#lib/log.ts';

/** A Log that keeps every line as the JSON a Lambda would print, for tests that read logs. */
export function captureLog(): Log & { lines: string[]; entries: Record<string, unknown>[] } {
  const entries: Record<string, unknown>[] = [];
  const lines: string[] = [];
  const write = (level: string) => (message: string, extra?: Record<string, unknown>) => {
    const entry = { level, message, ...extra };
    entries.push(entry);
    lines.push(JSON.stringify(entry));
  };
  return {
    lines,
    entries,
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
  };
}
