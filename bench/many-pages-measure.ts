import { readFile } from 'node:fs/promises';
import os from 'node:os';

/** What the many-Pages benchmark reads of one run's sends: per Page, and all together. */
export interface PageRates {
  /** Each Page's achieved rate (sends over the span of its sends) and busiest sliding second. */
  pages: { pageId: string; sent: number; achieved: number; busiestSecond: number }[];
  /** All sends over the span from the first to the last. */
  total: number;
}

/** Each Page's rate, and the rate of all sends together, from Meta's record of them. */
export function pageRates(sent: readonly { pageId: string; at: number }[]): PageRates {
  const byPage = new Map<string, number[]>();
  for (const { pageId, at } of sent) byPage.set(pageId, [...(byPage.get(pageId) ?? []), at]);
  const pages = [...byPage].map(([pageId, times]) => {
    times.sort((a, b) => a - b);
    return {
      pageId,
      sent: times.length,
      achieved: rateOver(times),
      busiestSecond: mostInAnySecond(times),
    };
  });
  return { pages, total: rateOver(sent.map(({ at }) => at).sort((a, b) => a - b)) };
}

/** Sends a second over the span of sorted times: n - 1 gaps between the first and the last. */
function rateOver(sorted: readonly number[]): number {
  const span = ((sorted.at(-1) ?? 0) - (sorted[0] ?? 0)) / 1000;
  return span > 0 ? (sorted.length - 1) / span : 0;
}

/** The most sends any sliding one-second window holds. */
export function mostInAnySecond(sorted: readonly number[]): number {
  let most = 0;
  let from = 0;
  for (const [i, at] of sorted.entries()) {
    while ((sorted[from] ?? at) <= at - 1_000) from++;
    most = Math.max(most, i - from + 1);
  }
  return most;
}

/** The machine's CPU between two readings: busy share of all cores, and the load average. */
export async function cpuMeter(): Promise<{ stop(): Promise<{ busy: number; load: number }> }> {
  const first = await readCpu();
  return {
    async stop() {
      const last = await readCpu();
      const total = last.total - first.total;
      return {
        busy: total > 0 ? (last.busy - first.busy) / total : 0,
        load: os.loadavg()[0] ?? 0,
      };
    },
  };
}

/** Busy and total jiffies of all cores, from /proc/stat (zeros where there is none). */
async function readCpu(): Promise<{ busy: number; total: number }> {
  try {
    const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '';
    const fields = line.trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((sum, n) => sum + n, 0);
    // idle and iowait are the 4th and 5th fields.
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: 0, total: 0 };
  }
}
