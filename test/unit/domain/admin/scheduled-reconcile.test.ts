import { describe, expect, it } from 'vitest';
import { backoffMs } from '#lib/domain/admin/reconcile.ts';
import {
  isReconcileSchedule,
  parseReconcileSchedule,
  reconcileDue,
} from '#lib/domain/admin/scheduled-reconcile.ts';

const NOW = Date.parse('2026-11-21T03:00:00Z');
const HOUR = 3_600_000;

describe('reconcileDue', () => {
  it.each([
    { name: 'never listed', state: undefined, due: true },
    { name: 'listed a day ago', state: { lastListedAt: NOW - 24 * HOUR }, due: true },
    { name: 'listed an hour ago', state: { lastListedAt: NOW - HOUR }, due: false },
    {
      name: 'refused, its retry time come',
      state: { lastListedAt: NOW - 2 * HOUR, failures: 1, retryAt: NOW },
      due: true,
    },
    {
      name: 'refused, its retry time still ahead',
      state: { lastListedAt: NOW - 30 * HOUR, failures: 2, retryAt: NOW + 2 * HOUR },
      due: false,
    },
  ])('$name: $due', ({ state, due }) => {
    expect(reconcileDue(state && { pageId: '1', failures: 0, ...state }, NOW)).toBe(due);
  });
});

describe('the retry backoff', () => {
  it('starts at an hour, doubles, and stays at most a day', () => {
    expect([1, 2, 3, 6, 20].map((failures) => backoffMs(failures) / HOUR)).toEqual([
      1, 2, 4, 24, 24,
    ]);
  });
});

describe('the schedule event', () => {
  it('is told apart from an HTTP request and read with its scheduled time', () => {
    const event = { reconcile: 'daily', scheduledTime: '2026-11-21T03:00:00Z' };

    expect(isReconcileSchedule(event)).toBe(true);
    expect(isReconcileSchedule({ requestContext: {} })).toBe(false);
    expect(parseReconcileSchedule(event)).toEqual({ scheduledTime: NOW });
    expect(() => parseReconcileSchedule({ reconcile: 'daily', scheduledTime: 'soon' })).toThrow(
      /reconcile schedule event/,
    );
  });
});
