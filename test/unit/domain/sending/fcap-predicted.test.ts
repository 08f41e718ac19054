import { describe, expect, it } from 'vitest';
import type { Page } from '#lib/domain/page.ts';
import { hourOf } from '#lib/domain/safety/conversation-counts.ts';
import { sendBatch } from '#lib/domain/sending/send-batch.ts';
import { memoryConversationCounter } from '../../../support/memory-ports.ts';
import { aJob, aPage, aRecord, HOUR_MS, NOW, SLOT, values, world } from './sender-world.ts';

/** A Page on the Marketing Message API, ready to send. */
const mmPage = (overrides: Partial<Page> = {}) =>
  aPage({ deliveryRoute: 'marketing_messages', adAccountId: '77', campaignId: '88', ...overrides });

/** A world whose person p1 wrote to the Page `organic` times 2 hours ago, and got `marketing` 13 h ago. */
async function aWorld(organic: number, marketing = 0, page: Page = mmPage()) {
  const w = world({ pages: [page] });
  const conversations = memoryConversationCounter(w.table);
  const counts = (kind: 'organic' | 'marketing', n: number, at: number) =>
    Array.from({ length: n }, (_, i) => ({
      pageId: '1001',
      psid: 'p1',
      kind,
      at,
      mark: `${kind}-${i}`,
    }));
  await conversations.add([
    ...counts('organic', organic, NOW - 2 * HOUR_MS),
    ...counts('marketing', marketing, NOW - 13 * HOUR_MS),
  ]);
  w.table.writes.length = 0;
  return { ...w, deps: { ...w.deps, conversations } };
}

const hoursOf = (w: Awaited<ReturnType<typeof aWorld>>) => [
  ...(w.table.conversations.get('1001#p1')?.hours.values() ?? []),
];

describe('the frequency-cap forecast in the sender', () => {
  it('skips an MM send that would be over 20 % of the week (5 organic, 1 sent), counts it, writes nothing', async () => {
    const w = await aWorld(5, 1);

    const [outcome] = values(await sendBatch([aRecord(aJob())], w.deps));

    expect(outcome).toMatchObject({
      kind: 'skipped',
      reason: 'fcap-predicted',
      detail: 'weekly cap: 1 marketing and 5 organic conversations in 7 days',
    });
    expect(w.sent).toHaveLength(0);
    expect(w.increments[0]).toEqual([
      { pageId: '1001', topicId: 'deals', day: '2026-11-21', counts: { fcapPredicted: 1 } },
    ]);
    expect(w.table.writes).toEqual([]);
  });

  it('sends at exactly 20 % (4 organic) and counts the send once as marketing in its hour', async () => {
    const w = await aWorld(4);

    const [outcome] = values(await sendBatch([aRecord(aJob())], w.deps));

    expect(outcome?.kind).toBe('sent');
    expect(hoursOf(w)).toEqual([
      { hour: hourOf(NOW - 2 * HOUR_MS), organic: 4, marketing: 0 },
      { hour: hourOf(NOW), organic: 0, marketing: 1 },
    ]);
  });

  it('counts that send the next day: 3 more organic would have let a send go without it', async () => {
    const w = await aWorld(4);
    values(await sendBatch([aRecord(aJob())], w.deps));
    const nextDay = NOW + 24 * HOUR_MS;
    await w.deps.conversations.add(
      ['a', 'b', 'c'].map((mark) => ({
        pageId: '1001',
        psid: 'p1',
        kind: 'organic' as const,
        at: nextDay - HOUR_MS,
        mark,
      })),
    );
    w.clock.set(nextDay);

    const job = aJob({ slot: SLOT + 24 * HOUR_MS, scheduledTime: SLOT + 24 * HOUR_MS });
    const [outcome] = values(await sendBatch([aRecord(job, 1, 'm2')], w.deps));

    // 2 of 9 conversations in the week would be marketing: over 20 %.
    expect(outcome).toMatchObject({
      kind: 'skipped',
      reason: 'fcap-predicted',
      detail: 'weekly cap: 1 marketing and 7 organic conversations in 7 days',
    });
  });

  it.each([
    ['who never wrote to the Page: nothing to forecast from', 0],
    ['whose one message opened the opt-in: too little seen to judge', 1],
  ])('sends to a person %s', async (_, organic) => {
    const w = await aWorld(organic);

    const [outcome] = values(await sendBatch([aRecord(aJob())], w.deps));

    expect(outcome?.kind).toBe('sent');
  });

  it('leaves the legacy route alone: Meta caps only marketing messages', async () => {
    const w = await aWorld(5, 1, aPage());

    const [outcome] = values(await sendBatch([aRecord(aJob())], w.deps));

    expect(outcome?.kind).toBe('sent');
    expect(hoursOf(w).reduce((sum, hour) => sum + hour.marketing, 0)).toBe(1);
  });
});
