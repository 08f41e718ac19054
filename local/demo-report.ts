/** What the demo prints: its progress lines, the summary table and the chart of sends. */

/** One simulated day's tally so far, as the demo prints it. */
export interface DayTally {
  /** 00:00 UTC of the day. */
  day: number;
  queued: number;
  sent: number;
  deferred: number;
  failed: number;
}

/** A send that reached the simulated Meta with a topic's token. */
export interface TopicSend {
  psid: string;
  token: string;
  topicId: string;
  at: number;
}

const DAY_MS = 86_400_000;
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const BAR_WIDTH = 40;

/** `Mon 2027-01-04`: a UTC day as the lines and the chart name it. */
export function dayName(day: number): string {
  const date = new Date(day);
  return `${WEEKDAYS[date.getUTCDay()]} ${date.toISOString().slice(0, 10)}`;
}

/** The plain line printed once a simulated day is over: totals since the week began. */
export function dayLine(tally: DayTally): string {
  return `  ${dayName(tally.day)} done | queued ${tally.queued} | sent ${tally.sent} | deferred ${tally.deferred} | failed ${tally.failed}`;
}

/** The live line a terminal redraws after every jump of the clock. */
export function liveLine(now: number, tally: Omit<DayTally, 'day'>): string {
  const at = new Date(now).toISOString().slice(0, 16).replace('T', ' ');
  return `  ${at} UTC | queued ${tally.queued} | sent ${tally.sent} | deferred ${tally.deferred} | failed ${tally.failed}`;
}

/** The table of what each topic sent: sends, people reached, and sends per person. */
export function summaryTable(
  topics: readonly { topicId: string; title: string }[],
  sends: readonly TopicSend[],
): string[] {
  const titleWidth = Math.max(5, ...topics.map((topic) => topic.title.length));
  const row = (cells: readonly string[]) =>
    `  ${(cells[0] ?? '').padEnd(titleWidth)}  ${cells
      .slice(1)
      .map((cell) => cell.padStart(8))
      .join('  ')}`;
  const lines = [row(['topic', 'sends', 'people', 'min each', 'max each'])];
  for (const { topicId, title } of topics) {
    const perPerson = new Map<string, number>();
    for (const send of sends) {
      if (send.topicId === topicId) perPerson.set(send.psid, (perPerson.get(send.psid) ?? 0) + 1);
    }
    const counts = [...perPerson.values()];
    const total = counts.reduce((sum, count) => sum + count, 0);
    lines.push(
      row([
        title,
        String(total),
        String(perPerson.size),
        String(counts.length > 0 ? Math.min(...counts) : 0),
        String(counts.length > 0 ? Math.max(...counts) : 0),
      ]),
    );
  }
  lines.push(row(['all', String(sends.length)]));
  return lines;
}

/**
 * A bar per day and topic, scaled to the largest: how the sends of the week spread out
 * (every second day for a daily topic on the legacy route's 48-hour cooldown).
 */
export function sendsChart(
  topics: readonly { topicId: string; title: string }[],
  sends: readonly TopicSend[],
  week: { start: number; days: number },
): string[] {
  const counts = new Map<string, number>();
  const key = (day: number, topicId: string) => `${day} ${topicId}`;
  for (const send of sends) {
    const day = Math.floor((send.at - week.start) / DAY_MS);
    counts.set(key(day, send.topicId), (counts.get(key(day, send.topicId)) ?? 0) + 1);
  }
  const largest = Math.max(1, ...counts.values());
  const titleWidth = Math.max(...topics.map((topic) => topic.title.length));
  const lines: string[] = [];
  for (let day = 0; day < week.days; day++) {
    for (const [position, { topicId, title }] of topics.entries()) {
      const count = counts.get(key(day, topicId)) ?? 0;
      const bar = '█'.repeat(Math.round((count / largest) * BAR_WIDTH)) || (count > 0 ? '▏' : '');
      const label = position === 0 ? dayName(week.start + day * DAY_MS) : '';
      lines.push(`  ${label.padEnd(14)}  ${title.padEnd(titleWidth)}  ${bar} ${count}`);
    }
  }
  return lines;
}
