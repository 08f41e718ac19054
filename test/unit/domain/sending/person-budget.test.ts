import { describe, expect, it } from 'vitest';
import type { Page } from '#lib/domain/page.ts';
import { judgeJob } from '#lib/domain/sending/judge-job.ts';
import { PERSON_BUDGET_MS, type PersonBudget } from '#lib/domain/sending/person-budget.ts';
import { DEFAULT_SENDER_OPTIONS } from '#lib/domain/sending/ports.ts';
import { sendBatch } from '#lib/domain/sending/send-batch.ts';
import { slotAtOrBefore } from '#lib/domain/slots.ts';
import type { Subscription } from '#lib/domain/subscription.ts';
import type { Topic } from '#lib/domain/topic.ts';
import { budgetId } from '../../../support/memory-ports.ts';
import {
  aJob,
  aPage,
  aRecord,
  aSubscription,
  aTopic,
  HOUR_MS,
  NOW,
  refused,
  SLOT,
  values,
  world,
} from './sender-world.ts';

/** A Page on the Marketing Message API, ready to send. */
const mmPage = (overrides: Partial<Page> = {}) =>
  aPage({ deliveryRoute: 'marketing_messages', adAccountId: '77', campaignId: '88', ...overrides });

/** The job's topic: DAILY 10:00 Paris, whose slot `SLOT` is Saturday 2026-11-21 09:00Z. */
const deals = (overrides: Partial<Topic> = {}) => aTopic({ createdAt: 1, ...overrides });
/** Another topic of the Page, Saturdays (a rarer cadence) at `sendTime` Paris. */
const weekly = (overrides: Partial<Topic> = {}) =>
  aTopic({
    topicId: 'weekly',
    title: 'Weekly',
    cadence: 'WEEKLY',
    weekday: 6,
    sendTime: '11:00',
    createdAt: 2,
    ...overrides,
  });
/** The person's subscription to `topicId`, on the job's token unless told otherwise. */
const alsoTo = (topicId: string, overrides: Partial<Subscription> = {}) =>
  aSubscription({ topicId, ...overrides });
const spent = (fields: Partial<PersonBudget>): PersonBudget => ({
  sentAt: SLOT - 3 * HOUR_MS,
  slot: SLOT - 3 * HOUR_MS,
  topicId: 'weekly',
  claimedBy: 'm0',
  ...fields,
});

/** What a row of the table sets up around the `deals` job of person p1. */
interface Setup {
  page?: Page;
  /** Overrides of the job's own topic. */
  deals?: Partial<Topic>;
  /** The Page's other topics (default: `weekly()`). */
  topics?: Topic[];
  /** The person's other subscriptions. */
  others?: Subscription[];
  /** The budget of the job's token, as stored. */
  budget?: PersonBudget;
}

/** A world holding what `setup` says, with the `deals` job of person p1 ready to send. */
function aWorld(setup: Setup = {}) {
  const w = world({
    pages: [setup.page ?? mmPage()],
    topics: [deals(setup.deals), ...(setup.topics ?? [weekly()])],
    subscriptions: [aSubscription(), ...(setup.others ?? [])],
  });
  if (setup.budget) w.table.budgets.set(budgetId(P1, 'tok-p1'), setup.budget);
  return w;
}

const P1 = { pageId: '1001', psid: 'p1' };

describe('the person budget: which of a person’s topics goes', () => {
  it.each<[string, Setup, 'sent' | 'person-budget']>([
    [
      'yields to a rarer topic due 1 h later on the same token',
      { others: [alsoTo('weekly')] },
      'person-budget',
    ],
    [
      'goes when the rarer topic holds another token (Meta counts per token)',
      { others: [alsoTo('weekly', { token: 'tok-legacy' })] },
      'sent',
    ],
    [
      'goes on the legacy route, whose tokens are per topic',
      { page: aPage(), others: [alsoTo('weekly')] },
      'sent',
    ],
    [
      'goes when the rarer topic is due 13 h later, outside the 12 h',
      { topics: [weekly({ sendTime: '23:00' })], others: [alsoTo('weekly')] },
      'sent',
    ],
    [
      'yields to a rarer topic due 5 h earlier and not sent yet',
      { topics: [weekly({ sendTime: '05:00' })], others: [alsoTo('weekly')] },
      'person-budget',
    ],
    [
      'goes when the earlier rarer slot is past the staleness limit',
      { topics: [weekly({ sendTime: '02:00' })], others: [alsoTo('weekly')] },
      'sent',
    ],
    [
      'goes when the rarer topic was already sent in its slot (its last slot)',
      {
        topics: [weekly({ sendTime: '05:00' })],
        others: [alsoTo('weekly', { lastSlot: SLOT - 5 * HOUR_MS })],
      },
      'sent',
    ],
    [
      'goes when the rarer topic’s subscription is stopped',
      { others: [alsoTo('weekly', { status: 'stopped' })] },
      'sent',
    ],
    ['goes when the person has no other subscription', { others: [] }, 'sent'],
    [
      'goes when its own priority is higher than the rarer topic’s',
      { deals: { priority: 5 }, others: [alsoTo('weekly')] },
      'sent',
    ],
    [
      'yields to a DAILY topic with a higher priority due 5 h later',
      {
        topics: [aTopic({ topicId: 'news', title: 'News', sendTime: '15:00', priority: 10 })],
        others: [alsoTo('news')],
      },
      'person-budget',
    ],
    [
      'goes before an equal DAILY topic that is younger',
      {
        topics: [aTopic({ topicId: 'news', title: 'News', sendTime: '15:00', createdAt: 9 })],
        others: [alsoTo('news')],
      },
      'sent',
    ],
    [
      'yields to an equal DAILY topic that is older',
      {
        topics: [aTopic({ topicId: 'news', title: 'News', sendTime: '15:00', createdAt: 0 })],
        others: [alsoTo('news')],
      },
      'person-budget',
    ],
    [
      'is skipped when another topic spent the budget for a slot 3 h earlier',
      { budget: spent({}) },
      'person-budget',
    ],
    [
      'is skipped when another topic spent it for a later slot (this job came late)',
      { budget: spent({ slot: SLOT + HOUR_MS, sentAt: NOW - 1_000 }) },
      'person-budget',
    ],
    [
      'goes when the budget was spent 12 h or more before, by slot and in real time',
      { budget: spent({ slot: SLOT - PERSON_BUDGET_MS, sentAt: SLOT - PERSON_BUDGET_MS }) },
      'sent',
    ],
  ])('%s', async (_, setup, expected) => {
    const w = aWorld(setup);

    const [outcome] = values(await sendBatch([aRecord(aJob())], w.deps));

    expect(outcome?.kind === 'skipped' ? outcome.reason : outcome?.kind).toBe(expected);
    expect(w.sent).toHaveLength(expected === 'sent' ? 1 : 0);
    const budget = w.table.budgets.get(budgetId(P1, 'tok-p1'));
    if (expected === 'sent' && setup.page?.deliveryRoute !== 'send_api') {
      expect(budget).toMatchObject({ topicId: 'deals', slot: SLOT, claimedBy: 'm1' });
    } else {
      expect(budget).toEqual(setup.budget);
    }
  });

  it('counts a skipped job as budget in its topic’s stats, and writes nothing', async () => {
    const w = aWorld({ others: [alsoTo('weekly')] });

    const [outcome] = values(await sendBatch([aRecord(aJob())], w.deps));

    expect(outcome).toMatchObject({
      kind: 'skipped',
      reason: 'person-budget',
      detail: 'topic weekly ranks higher, due 2026-11-21T10:00:00.000Z',
    });
    expect(w.increments[0]).toEqual([
      { pageId: '1001', topicId: 'deals', day: '2026-11-21', counts: { budget: 1 } },
    ]);
    expect(w.table.writes).toEqual([]);
  });

  it('waits for a budget spent 12 h before by slot that left late, and sends when it is free', async () => {
    const sentAt = NOW - PERSON_BUDGET_MS + 600;
    const w = aWorld({ budget: spent({ slot: SLOT - PERSON_BUDGET_MS, sentAt }) });

    values(await sendBatch([aRecord(aJob())], w.deps));

    expect(w.sent.map((send) => send.at)).toEqual([sentAt + PERSON_BUDGET_MS]);
  });

  it('puts a job back until the budget is free when that is more than the max wait away', async () => {
    const sentAt = NOW - PERSON_BUDGET_MS + HOUR_MS;
    const w = aWorld({ budget: spent({ slot: SLOT - PERSON_BUDGET_MS, sentAt }) });

    const [outcome] = values(await sendBatch([aRecord(aJob())], w.deps));

    expect(outcome).toMatchObject({ kind: 'deferred', reason: 'cooldown', delayMs: HOUR_MS });
    expect(w.sent).toHaveLength(0);
  });
});

describe('the person budget: DAILY 09:00 and WEEKLY Monday 10:00 of one person', () => {
  const MONDAY_0900 = Date.parse('2026-11-23T08:00:00Z');
  const page = mmPage();
  const daily = aTopic({ topicId: 'daily', sendTime: '09:00', createdAt: 1 });
  const monday = aTopic({
    topicId: 'monday',
    title: 'Monday',
    cadence: 'WEEKLY',
    weekday: 1,
    sendTime: '10:00',
    createdAt: 2,
  });
  const person = (budget?: PersonBudget) => ({
    holders: [{ subscription: aSubscription({ topicId: 'monday' }), topic: monday }],
    ...(budget && { budget }),
  });
  const judge = (topic: Topic, slot: number, budget?: PersonBudget) =>
    judgeJob(
      aJob({ topicId: topic.topicId, slot, scheduledTime: slot }),
      {
        page,
        topic,
        subscription: aSubscription({ topicId: topic.topicId }),
        person: person(budget),
      },
      slot + 30_000,
      DEFAULT_SENDER_OPTIONS,
      'm1',
    );

  it('has the daily one yield at 09:00 to the weekly one due at 10:00, which goes', () => {
    expect(judge(daily, MONDAY_0900)).toMatchObject({ kind: 'skip', reason: 'person-budget' });
    expect(judge(monday, MONDAY_0900 + HOUR_MS).kind).toBe('send');
  });

  it('sends the daily one on Tuesday, 23 h after the weekly one', () => {
    const tuesday = MONDAY_0900 + 24 * HOUR_MS;
    const weeklySent = spent({
      topicId: 'monday',
      slot: MONDAY_0900 + HOUR_MS,
      sentAt: MONDAY_0900 + HOUR_MS,
    });

    expect(judge(daily, tuesday, weeklySent).kind).toBe('send');
  });

  it('sends the daily one on Sunday, 25 h before the weekly one', () => {
    expect(judge(daily, MONDAY_0900 - 24 * HOUR_MS).kind).toBe('send');
  });
});

describe('the person budget across retries, crashes and races', () => {
  const gap = refused(100, 2300036);

  it('gives the budget back when Meta refuses the send, so nothing is spent on it', async () => {
    const w = world({
      pages: [mmPage()],
      topics: [deals()],
      answer: () => gap,
    });

    const [outcome] = values(await sendBatch([aRecord(aJob())], w.deps));

    expect(outcome).toMatchObject({ kind: 'skipped', reason: 'conversation-gap' });
    expect(w.table.budgets.size).toBe(0);
    expect(w.subscription()?.lastSlot).toBeUndefined();
  });

  it('takes up its own budget after a crash between claim and send: one send, no second budget', async () => {
    const w = aWorld({ others: [], topics: [] });
    // What the Marketing Message claim wrote before the crash.
    Object.assign(w.stored() ?? {}, { claimedSlot: SLOT, claimedSentAt: NOW, claimedBy: 'm1' });
    const own = { sentAt: NOW, slot: SLOT, topicId: 'deals', claimedBy: 'm1' };
    w.table.budgets.set(budgetId(P1, 'tok-p1'), own);

    const [again] = values(await sendBatch([aRecord(aJob(), 2, 'm1')], w.deps));
    const [duplicate] = values(await sendBatch([aRecord(aJob(), 1, 'm2')], w.deps));

    expect(again?.kind).toBe('sent');
    expect(duplicate).toMatchObject({ kind: 'skipped', reason: 'already-claimed' });
    expect(w.sent).toHaveLength(1);
    expect(w.table.budgets.get(budgetId(P1, 'tok-p1'))).toMatchObject({
      claimedBy: 'm1',
      slot: SLOT,
    });
  });

  it('spends the budget on a retry after a crash between the slot claim and the budget', async () => {
    const w = aWorld({ others: [], topics: [] });
    // What the Marketing Message claim wrote before the crash.
    Object.assign(w.stored() ?? {}, { claimedSlot: SLOT, claimedSentAt: NOW, claimedBy: 'm1' });

    const [again] = values(await sendBatch([aRecord(aJob(), 2, 'm1')], w.deps));

    expect(again?.kind).toBe('sent');
    expect(w.table.budgets.get(budgetId(P1, 'tok-p1'))).toMatchObject({ claimedBy: 'm1' });
  });

  it('lets one of two senders that both judged a send before either claimed spend the budget', async () => {
    // DAILY 10:00 and DAILY 22:00 Paris, 12 h apart: neither yields to the other, and the
    // 22:00 job of the evening before came late, so both reach the claim at once.
    const evening = aTopic({
      topicId: 'evening',
      title: 'Evening',
      sendTime: '22:00',
      createdAt: 0,
    });
    const eveningSlot = slotAtOrBefore(evening, 'Europe/Paris', SLOT);
    const w = aWorld({ topics: [evening], others: [alsoTo('evening')] });

    const outcomes = (
      await Promise.all([
        sendBatch([aRecord(aJob(), 1, 'm1')], w.deps),
        sendBatch([aRecord(aJob({ topicId: 'evening', slot: eveningSlot }), 1, 'm2')], w.deps),
      ])
    ).flatMap(values);

    expect(eveningSlot).toBe(SLOT - PERSON_BUDGET_MS);
    expect(w.sent).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome.kind === 'sent')).toHaveLength(1);
    const other = outcomes.find((outcome) => outcome.kind !== 'sent');
    expect(other?.kind === 'skipped' ? other.reason : other?.kind).toMatch(
      /person-budget|deferred/,
    );
  });
});
