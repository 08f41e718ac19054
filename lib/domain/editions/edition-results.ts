/** What came of one edition: its sends, skips by reason and Meta's statuses of its sends. */
export interface EditionResult {
  date: string;
  sent: number;
  failed: number;
  /** From Meta's status webhooks (Marketing Message route only). */
  delivered: number;
  read: number;
  clicked: number;
  undelivered: number;
  /** Jobs skipped, by the sender's reason (`person-budget`, `no-edition`, ...). */
  skipped: Record<string, number>;
}

/** The stored counters of editions, per topic and local date. */
export interface EditionResults {
  /** The counters of a topic's editions from `from` to `to` (inclusive), by date. */
  read(pageId: string, topicId: string, from: string, to: string): Promise<EditionResult[]>;
}

const SKIPPED = 'skipped_';

/** An edition's result from its stored counters (`sent`, `skipped_person_budget`, ...). */
export function editionResultOf(
  date: string,
  counts: Readonly<Record<string, number>>,
): EditionResult {
  const skipped: Record<string, number> = {};
  for (const [name, value] of Object.entries(counts)) {
    if (name.startsWith(SKIPPED)) skipped[name.slice(SKIPPED.length).replaceAll('_', '-')] = value;
  }
  return {
    date,
    sent: counts.sent ?? 0,
    failed: counts.failed ?? 0,
    delivered: counts.delivered ?? 0,
    read: counts.read ?? 0,
    clicked: counts.clicked ?? 0,
    undelivered: counts.undelivered ?? 0,
    skipped,
  };
}
