import { describe, expect, it } from 'vitest';
import {
  canMove,
  countersFor,
  type SendStatus,
  type StatusCounter,
} from '#lib/domain/tracked-send.ts';

const STATUSES: SendStatus[] = ['sent', 'delivered', 'read', 'clicked', 'failed'];

describe('canMove: a send status only moves forward', () => {
  const allowed: Record<SendStatus, SendStatus[]> = {
    sent: ['delivered', 'read', 'clicked', 'failed'],
    delivered: ['read', 'clicked'],
    read: ['clicked'],
    clicked: [],
    failed: [],
  };
  const rows = STATUSES.flatMap((from) =>
    STATUSES.map((to): [SendStatus, SendStatus, boolean] => [from, to, allowed[from].includes(to)]),
  );

  it.each(rows)('from %s to %s: %s', (from, to, expected) => {
    expect(canMove(from, to)).toBe(expected);
  });
});

describe('countersFor', () => {
  it.each<[SendStatus, SendStatus, StatusCounter[]]>([
    ['sent', 'delivered', ['delivered']],
    ['sent', 'read', ['delivered', 'read']],
    ['sent', 'clicked', ['delivered', 'read', 'clicked']],
    ['delivered', 'clicked', ['read', 'clicked']],
    ['read', 'delivered', []],
    ['sent', 'failed', ['undelivered']],
    ['delivered', 'failed', []],
    ['failed', 'read', []],
    ['sent', 'sent', []],
  ])('from %s to %s counts %j', (from, to, counters) => {
    expect(countersFor(from, to)).toEqual(counters);
  });

  /** Every order of `statuses`, applied to one send from `sent`: the counters they add. */
  function countsInEveryOrder(statuses: SendStatus[]): Map<string, number>[] {
    const orders: SendStatus[][] = [];
    const permute = (rest: SendStatus[], taken: SendStatus[]) => {
      if (rest.length === 0) orders.push(taken);
      for (const [index, status] of rest.entries()) {
        permute([...rest.slice(0, index), ...rest.slice(index + 1)], [...taken, status]);
      }
    };
    permute(statuses, []);
    return orders.map((order) => {
      let current: SendStatus = 'sent';
      const counts = new Map<string, number>();
      for (const status of order) {
        for (const counter of countersFor(current, status)) {
          counts.set(counter, (counts.get(counter) ?? 0) + 1);
        }
        if (canMove(current, status)) current = status;
      }
      return counts;
    });
  }

  it('gives the same counts for every order and duplicate of a send’s statuses', () => {
    const results = countsInEveryOrder(['delivered', 'read', 'clicked', 'read', 'delivered']);

    expect(results.length).toBe(120);
    for (const counts of results) {
      expect(Object.fromEntries(counts)).toEqual({ delivered: 1, read: 1, clicked: 1 });
    }
  });
});
