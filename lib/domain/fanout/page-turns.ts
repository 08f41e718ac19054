/**
 * The order a fan-out run reads and queues in, so Pages take turns. The sender paces each
 * Page to its rate while a batch is in hand: a batch of one Page's jobs leaves one
 * rate-interval apart, a batch of ten Pages' jobs leaves at once. So the run reads every
 * group's first partition before any group's second, and writes jobs a few of one Page at a
 * time (`JOBS_PER_PAGE_TURN`).
 */

/**
 * Jobs of one Page queued together in each turn. A sender batch of ten then holds three or
 * four Pages: the writes a batch makes once per Page (its rate bucket, stats, breaker hour)
 * are shared by about three sends, and one invocation still paces several Pages at once.
 * Measured with 10 Pages at 20/s (`npm run bench -- many-pages`): one job a turn, 0.39 of the
 * rate and 10.2 DynamoDB requests a send; three, 0.42 and 7.3; five, 0.34 and 6.3.
 */
export const JOBS_PER_PAGE_TURN = 3;

/** Where a partition falls in a run: its index in its group's partitions, then its id. */
export interface PartitionPosition {
  turn: number;
  partition: string;
}

/** Orders positions: every group's first partition, then every group's second, and so on. */
export function comparePositions(a: PartitionPosition, b: PartitionPosition): number {
  if (a.turn !== b.turn) return a.turn - b.turn;
  return a.partition < b.partition ? -1 : a.partition > b.partition ? 1 : 0;
}

/**
 * The items one Page at a time, in rounds: each Page's first `perTurn` items, then each
 * Page's next, and so on; a Page's own items keep their order. Pages take turns in the order
 * they first appear.
 */
export function inPageTurns<T>(items: readonly T[], pageOf: (item: T) => string, perTurn = 1): T[] {
  const byPage = new Map<string, T[]>();
  for (const item of items) {
    const page = pageOf(item);
    const queue = byPage.get(page);
    if (queue) queue.push(item);
    else byPage.set(page, [item]);
  }
  const queues = [...byPage.values()];
  const ordered: T[] = [];
  for (let round = 0; ordered.length < items.length; round++) {
    for (const queue of queues) {
      ordered.push(...queue.slice(round * perTurn, (round + 1) * perTurn));
    }
  }
  return ordered;
}
