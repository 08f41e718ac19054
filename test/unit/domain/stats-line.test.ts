import { describe, expect, it } from 'vitest';
import { COUNTED_METRICS, statsLineLevel } from '#lib/domain/stats.ts';

describe('statsLineLevel', () => {
  it('writes no line for no counters', () => {
    expect(statsLineLevel({}, 'webhook')).toBeUndefined();
  });

  it('keeps a line at info when it carries a counter a metric of that function reads', () => {
    expect(statsLineLevel({ optins: 1, delivered: 4 }, 'webhook')).toBe('info');
    expect(statsLineLevel({ failed: 1 }, 'webhook')).toBe('info');
    expect(statsLineLevel({ sent: 3, fcap: 1 }, 'sender')).toBe('info');
  });

  it('puts a line of statuses only, or of counters no metric of that function reads, at debug', () => {
    expect(statsLineLevel({ delivered: 5, read: 2, clicked: 1 }, 'webhook')).toBe('debug');
    expect(statsLineLevel({ sent: 2 }, 'webhook')).toBe('debug');
    expect(statsLineLevel({ optins: 1 }, 'sender')).toBe('debug');
    expect(statsLineLevel({ budget: 2, fcapPredicted: 1 }, 'sender')).toBe('debug');
  });

  it('keeps at info every counter the dashboard takes from each function', () => {
    for (const { field, from } of COUNTED_METRICS) {
      for (const name of from) expect(statsLineLevel({ [field]: 1 }, name)).toBe('info');
    }
  });
});
