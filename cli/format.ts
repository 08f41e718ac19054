/** Terminal output for people: aligned tables and bar charts, plain text only. */

const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/** Width of a string in terminal columns, counting code points (no wide-character handling). */
function widthOf(text: string): number {
  return [...text].length;
}

function pad(text: string, width: number, align: 'left' | 'right'): string {
  const fill = ' '.repeat(Math.max(0, width - widthOf(text)));
  return align === 'left' ? text + fill : fill + text;
}

/** Columns aligned under their headers, two spaces apart; numbers may be right-aligned. */
export function table(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  align: readonly ('left' | 'right')[] = [],
): string {
  const widths = headers.map((header, column) =>
    Math.max(widthOf(header), ...rows.map((row) => widthOf(row[column] ?? ''))),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => pad(cell, widths[column] ?? 0, align[column] ?? 'left'))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** One bar per entry, the largest `width` columns long, in eighths of a column, value after. */
export function barChart(
  entries: readonly { label: string; value: number }[],
  width = 40,
): string[] {
  const largest = Math.max(0, ...entries.map((entry) => entry.value));
  const labelWidth = Math.max(0, ...entries.map((entry) => widthOf(entry.label)));
  const valueWidth = Math.max(0, ...entries.map((entry) => String(entry.value).length));
  return entries.map(({ label, value }) => {
    const eighths = largest === 0 ? 0 : Math.round((value / largest) * width * 8);
    const bar = '█'.repeat(Math.floor(eighths / 8)) + (EIGHTHS[eighths % 8] ?? '');
    return `${pad(label, labelWidth, 'left')}  ${pad(String(value), valueWidth, 'right')}  ${bar}`.trimEnd();
  });
}

/** An ISO instant shortened for a table (`2026-11-22 08:00Z`), or a dash. */
export function shortInstant(iso: unknown): string {
  if (typeof iso !== 'string') return '-';
  return iso.replace('T', ' ').replace(/:00(\.000)?Z$/, 'Z');
}

/** `3 subscriptions`, `1 subscription`, or nothing for none. */
export function counted(count: number, one: string, many = `${one}s`): string | undefined {
  if (count === 0) return undefined;
  return `${count} ${count === 1 ? one : many}`;
}
