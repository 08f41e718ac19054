import { describe, expect, it } from 'vitest';
import {
  LEGACY_COOLDOWN_MS,
  MARKETING_COOLDOWN_MS,
  nextEligibleAt,
} from '../../../../local/meta-simulator/cooldown.ts';

const base = { legacyCooldownMs: LEGACY_COOLDOWN_MS, marketingCooldownMs: MARKETING_COOLDOWN_MS };
const at = (iso: string) => Date.parse(iso);

describe('when a token may be used again', () => {
  it('is any time for a token never used', () => {
    expect(nextEligibleAt({ ...base, route: 'send_api', pageZone: 'UTC' })).toBeUndefined();
  });

  it('is 48 hours after the last legacy send of a token without frequency or DAILY', () => {
    const lastSentAt = at('2026-11-21T09:00:00Z');

    for (const frequency of [undefined, 'DAILY'] as const) {
      expect(
        nextEligibleAt({
          ...base,
          route: 'send_api',
          pageZone: 'UTC',
          lastSentAt,
          ...(frequency && { frequency }),
        }),
      ).toBe(at('2026-11-23T09:00:00Z'));
    }
  });

  it('is 12 hours after the last send on the Marketing Message API, whatever the frequency', () => {
    expect(
      nextEligibleAt({
        ...base,
        route: 'marketing_messages',
        frequency: 'MONTHLY',
        pageZone: 'UTC',
        lastSentAt: at('2026-11-21T09:00:00Z'),
      }),
    ).toBe(at('2026-11-21T21:00:00Z'));
  });

  it('is the next Monday 00:00 in the Page zone for a WEEKLY token', () => {
    // Sunday 23:30 UTC is already Monday 00:30 in Paris: the Paris week runs to the next Monday.
    expect(
      nextEligibleAt({
        ...base,
        route: 'send_api',
        frequency: 'WEEKLY',
        pageZone: 'Europe/Paris',
        lastSentAt: at('2026-11-22T23:30:00Z'),
      }),
    ).toBe(at('2026-11-29T23:00:00Z'));
    expect(
      nextEligibleAt({
        ...base,
        route: 'send_api',
        frequency: 'WEEKLY',
        pageZone: 'UTC',
        lastSentAt: at('2026-11-22T23:30:00Z'),
      }),
    ).toBe(at('2026-11-23T00:00:00Z'));
  });

  it('keeps local midnight across a DST change', () => {
    // Paris leaves summer time on Sunday 25 October 2026: the next Monday starts at 23:00 UTC.
    expect(
      nextEligibleAt({
        ...base,
        route: 'send_api',
        frequency: 'WEEKLY',
        pageZone: 'Europe/Paris',
        lastSentAt: at('2026-10-21T12:00:00Z'),
      }),
    ).toBe(at('2026-10-25T23:00:00Z'));
  });

  it('is the first of the next month in the Page zone for a MONTHLY token', () => {
    const monthly = (lastSentAt: number, pageZone: string) =>
      nextEligibleAt({ ...base, route: 'send_api', frequency: 'MONTHLY', pageZone, lastSentAt });

    expect(monthly(at('2026-01-31T20:00:00Z'), 'UTC')).toBe(at('2026-02-01T00:00:00Z'));
    // 31 January 20:00 UTC is already 1 February in Kolkata: the next month starts in March.
    expect(monthly(at('2026-01-31T20:00:00Z'), 'Asia/Kolkata')).toBe(at('2026-02-28T18:30:00Z'));
  });
});
