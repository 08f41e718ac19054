import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../local/emulators.ts';
import { startChildRuntime } from '../reliability/support/child-runtime.ts';

/** `npm start -- --demo` piped, as CI, `tee` or a terminal recorder runs it. */
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

const DAY_LINE =
  /^ {2}(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{4}-\d{2}-\d{2} done \| queued (\d+) \| sent (\d+) \| deferred \d+ \| failed (\d+)$/;

describe('npm start -- --demo, piped', () => {
  it('lives through a week in plain lines, one per day, then a summary, a chart and the checks', async () => {
    const runtime = startChildRuntime({ PORT: String(await freePort()) }, [
      '--demo',
      '--people',
      '20',
    ]);
    children.push(runtime.child);
    const code = await runtime.exited;
    const { text } = runtime.output;

    expect(code, text.slice(-3000)).toBe(0);
    expect(text).not.toContain('\r');
    const lines = text.split('\n');
    const days = lines.flatMap((line) => {
      const match = DAY_LINE.exec(line);
      return match ? [{ weekday: match[1], sent: Number(match[3]), failed: Number(match[4]) }] : [];
    });
    expect(days.map((day) => day.weekday)).toEqual([
      'Mon',
      'Tue',
      'Wed',
      'Thu',
      'Fri',
      'Sat',
      'Sun',
    ]);
    // Totals so far: they never go down, and the week ends with every send of the summary.
    for (let i = 1; i < days.length; i++) {
      expect(days[i]?.sent).toBeGreaterThanOrEqual(days[i - 1]?.sent ?? 0);
    }
    expect(days.at(-1)?.failed).toBe(0);
    expect(text).toContain('20 people wrote to a Page and opted in to both topics');
    expect(text).toContain('Daily deals has an edition, a different deal, for each of 10 days');
    expect(text).toMatch(/^ {2}Daily deals +\d+ +20 +[34] +4$/m);
    expect(text).toMatch(/^ {2}Weekly digest +20 +20 +1 +1$/m);
    const all = Number(/^ {2}all +(\d+)$/m.exec(text)?.[1]);
    expect(days.at(-1)?.sent).toBe(all);
    expect(text).toContain('Sends per day (UTC) and topic');
    expect(text).toMatch(/^ {2}Mon \d{4}-\d{2}-\d{2} +Daily deals +█+ \d+$/m);
    expect(text).toContain(
      'Meta rules held: no token got two sends within 48 h, no call over a Page’s rate, everyone got every topic.',
    );
  }, 180_000);
});
