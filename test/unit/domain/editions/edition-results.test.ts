import { describe, expect, it } from 'vitest';
import { editionResultOf } from '#lib/domain/editions/edition-results.ts';
import { createStatsTally, skipCounter } from '#lib/domain/stats.ts';

const AT = Date.parse('2026-12-04T19:00:00Z');

describe('edition counts', () => {
  it("counts an edition apart from the topic's UTC day, and leaves it out of the logged totals", () => {
    const tally = createStatsTally();

    tally.count('1001', 'deals', AT, 'sent');
    tally.countEdition('1001', 'deals', '2026-12-05', 'sent');
    tally.countEdition('1001', 'deals', '2026-12-05', skipCounter('person-budget'));

    expect(tally.increments()).toEqual([
      { pageId: '1001', topicId: 'deals', day: '2026-12-04', counts: { sent: 1 } },
      {
        pageId: '1001',
        topicId: 'deals',
        day: '2026-12-05',
        counts: { sent: 1, skipped_person_budget: 1 },
        edition: true,
      },
    ]);
    expect(tally.totals()).toEqual({ sent: 1 });
  });

  it('reads an edition back with its skips by reason and zeros for what never happened', () => {
    expect(
      editionResultOf('2026-12-05', {
        sent: 8,
        delivered: 7,
        skipped_no_edition: 2,
        skipped_person_budget: 1,
      }),
    ).toEqual({
      date: '2026-12-05',
      sent: 8,
      failed: 0,
      delivered: 7,
      read: 0,
      clicked: 0,
      undelivered: 0,
      skipped: { 'no-edition': 2, 'person-budget': 1 },
    });
  });
});
