import { describe, expect, it } from 'vitest';
import { broadcastThreshold, broadcastVerdict } from '#lib/domain/sending/broadcast-jobs.ts';
import type { JobVerdict } from '#lib/domain/sending/judge-job.ts';

const HOUR = 3_600_000;
const NOON = Date.parse('2026-11-24T11:00:00Z');
const job = { pageId: '1', psid: '2', topicId: 'deals', slot: NOON, scheduledTime: NOON };
const broadcastJob = { ...job, broadcastId: 'b1' };

describe("a broadcast job's cooldown threshold", () => {
  it("is the route's cooldown before the broadcast's instant, counted in real time", () => {
    const page = { timezone: 'Europe/Paris' };

    expect(
      broadcastThreshold(broadcastJob, {}, { ...page, deliveryRoute: 'marketing_messages' }),
    ).toBe(NOON - 12 * HOUR + 1);
    expect(broadcastThreshold(broadcastJob, {}, { ...page, deliveryRoute: 'send_api' })).toBe(
      NOON - 48 * HOUR + 1,
    );
  });

  it("also keeps an old WEEKLY token to one send in the Page's calendar week", () => {
    const threshold = broadcastThreshold(
      broadcastJob,
      { frequency: 'WEEKLY' },
      { timezone: 'Europe/Paris', deliveryRoute: 'marketing_messages' },
    );

    // Monday 23 November 00:00 in Paris.
    expect(threshold).toBe(Date.parse('2026-11-22T23:00:00Z'));
  });
});

describe('broadcast job: no defer', () => {
  const defer: JobVerdict = { kind: 'defer', reason: 'cooldown', delayMs: 2 * HOUR };
  const claimed: JobVerdict = { kind: 'skip', reason: 'already-claimed' };

  it('skips with reason cooldown what a slot job would defer for the cooldown or budget', () => {
    expect(broadcastVerdict(broadcastJob, defer, {}, NOON)).toEqual({
      kind: 'skip',
      reason: 'cooldown',
      detail: 'cooldown until 2026-11-24T13:00:00.000Z',
    });
    expect(broadcastVerdict(job, defer, {}, NOON)).toBe(defer);
  });

  it('calls a last send within the cooldown a cooldown skip, the same broadcast again already-claimed', () => {
    expect(broadcastVerdict(broadcastJob, claimed, { lastSlot: NOON - 3 * HOUR }, NOON)).toEqual({
      kind: 'skip',
      reason: 'cooldown',
      detail: 'last sent for 2026-11-24T08:00:00.000Z',
    });
    expect(broadcastVerdict(broadcastJob, claimed, { lastSlot: NOON }, NOON)).toBe(claimed);
    expect(broadcastVerdict(job, claimed, { lastSlot: NOON - 3 * HOUR }, NOON)).toBe(claimed);
  });

  it('leaves every other verdict as it is: a page hold still puts a broadcast job back', () => {
    const held: JobVerdict = { kind: 'defer', reason: 'page-held', delayMs: HOUR };
    const quiet: JobVerdict = { kind: 'skip', reason: 'quiet-hours' };

    expect(broadcastVerdict(broadcastJob, held, {}, NOON)).toBe(held);
    expect(broadcastVerdict(broadcastJob, quiet, {}, NOON)).toBe(quiet);
  });
});
