import { mkdir, writeFile } from 'node:fs/promises';

/** Median, min and max of repeated measurements. */
export function summarise(samples: readonly number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2
      ? (sorted[middle] ?? 0)
      : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
  return { median, min: sorted[0] ?? 0, max: sorted.at(-1) ?? 0, runs: sorted.length };
}

/**
 * A result file under bench/results/: `<name>-quick` for a `--quick` pass, so a check never
 * overwrites the figures of a full run.
 */
export function resultFile(name: string, extension: 'json' | 'svg'): URL {
  const quick = process.argv.includes('--quick') && !name.endsWith('-quick');
  return new URL(`./results/${name}${quick ? '-quick' : ''}.${extension}`, import.meta.url);
}

/** Writes a benchmark's figures as JSON under bench/results/. */
export async function writeResult(name: string, data: unknown): Promise<string> {
  const dir = new URL('./results/', import.meta.url);
  await mkdir(dir, { recursive: true });
  const file = resultFile(name, 'json');
  await writeFile(
    file,
    `${JSON.stringify({ measuredAt: new Date().toISOString(), ...(data as object) }, null, 2)}\n`,
  );
  return file.pathname;
}

/** Prints rows as an aligned table. */
export function printTable(rows: readonly Record<string, string | number>[]): void {
  const first = rows[0];
  if (!first) return;
  const columns = Object.keys(first);
  const width = (column: string) =>
    Math.max(column.length, ...rows.map((row) => String(row[column] ?? '').length));
  const line = (cells: string[]) =>
    cells.map((cell, i) => cell.padEnd(width(columns[i] ?? ''))).join('  ');
  console.log(line(columns));
  for (const row of rows) console.log(line(columns.map((column) => String(row[column] ?? ''))));
}

/** Waits `ms` (a negative wait is none). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
