import { vi } from 'vitest';
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

/**
 * Runs `act` and returns, parsed, every JSON line printed on stdout meanwhile (what a
 * Powertools logger writes, as CloudWatch would get it), printing none of them.
 */
export async function captureStdout(
  act: () => Promise<unknown>,
): Promise<Record<string, unknown>[]> {
  const printed: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
    printed.push(String(chunk));
    return true;
  });
  try {
    await act();
  } finally {
    write.mockRestore();
  }
  return printed
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
