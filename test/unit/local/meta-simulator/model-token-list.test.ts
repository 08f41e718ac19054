import { describe, expect, it } from 'vitest';
import { fixedClock } from '#lib/clock.ts';
import { createMetaModel } from '../../../../local/meta-simulator/model.ts';

const NOW = Date.parse('2026-11-21T09:00:00Z');
const HOUR = 3_600_000;
const PAGE = '1001';

/** A Page whose people each hold a token per topic, as seeded tokens (oldest first). */
function aPlatform(people: { psid: string; topics: string[] }[]) {
  const clock = fixedClock(NOW);
  const model = createMetaModel({ clock, emit: () => {}, random: () => 0 });
  model.addPage({ id: PAGE, accessToken: 'page-token', timezone: 'UTC' });
  let at = NOW - 10 * HOUR;
  for (const person of people) {
    model.addPerson({ pageId: PAGE, psid: person.psid });
    for (const topicId of person.topics) {
      at += 1000;
      model.seedToken({ pageId: PAGE, psid: person.psid, topicId, createdAt: at });
    }
  }
  return { clock, model };
}

function listAll(
  model: ReturnType<typeof aPlatform>['model'],
  query: { limit?: number; onePerPerson?: boolean },
) {
  const psids: string[] = [];
  let after: string | undefined;
  for (;;) {
    const page = model.listTokens(PAGE, { ...query, ...(after !== undefined && { after }) });
    if (!page.ok) throw new Error(`refused: ${page.error.code}`);
    psids.push(...page.value.data.map((node) => node.recipient_id));
    if (!page.value.hasMore) return psids;
    after = page.value.after;
  }
}

describe('the token list', () => {
  it('names each token notification_messages_token, and each person once with do_not_return_duplicates', () => {
    const { model } = aPlatform([
      { psid: '1', topics: ['a', 'b'] },
      { psid: '2', topics: ['a'] },
    ]);

    const first = model.listTokens(PAGE, { limit: 10 });
    const onePerPerson = listAll(model, { limit: 1, onePerPerson: true });

    expect(first.ok && first.value.data.map((node) => node.recipient_id)).toEqual(['1', '1', '2']);
    expect(first.ok && first.value.data[0]).toHaveProperty('notification_messages_token');
    expect(first.ok && first.value.data[0]).not.toHaveProperty('token');
    expect(onePerPerson).toEqual(['1', '2']);
  });

  it('ends the one-per-person list at 10,000 people', () => {
    const { model } = aPlatform(
      Array.from({ length: 10_005 }, (_, index) => ({ psid: String(index + 1), topics: ['a'] })),
    );

    expect(listAll(model, { limit: 1000, onePerPerson: true })).toHaveLength(10_000);
    expect(listAll(model, { limit: 1000 })).toHaveLength(10_005);
  });

  it('answers 2300080 with remaining_seconds once the hour has had its reads', () => {
    const { model, clock } = aPlatform([{ psid: '1', topics: ['a'] }]);
    model.setTokenListRules(PAGE, { readsPerHour: 2 });

    const answers = [0, 1, 2].map(() => model.listTokens(PAGE, {}));
    clock.set(NOW + HOUR + 1);
    const later = model.listTokens(PAGE, {});

    expect(answers.map((answer) => answer.ok)).toEqual([true, true, false]);
    const refused = answers[2];
    expect(refused?.ok === false && refused.error).toMatchObject({
      code: 2300080,
      errorData: { remaining_seconds: 3600 },
    });
    expect(later.ok).toBe(true);
  });

  it('allows 1,000 reads an hour per person who wrote in the last day, at least one', () => {
    const { model } = aPlatform([{ psid: '1', topics: ['a'] }]);

    const answers = Array.from({ length: 1001 }, () => model.listTokens(PAGE, {}).ok);

    expect(answers.filter(Boolean)).toHaveLength(1000);
  });

  it('cuts a list short after the pages a test names, and refuses it when told', () => {
    const { model } = aPlatform([1, 2, 3, 4].map((n) => ({ psid: String(n), topics: ['a'] })));
    model.setTokenListRules(PAGE, { cutAfterPages: 1 });

    const first = model.listTokens(PAGE, { limit: 2 });
    const after = first.ok ? first.value.after : undefined;
    const second = model.listTokens(PAGE, { limit: 2, ...(after !== undefined && { after }) });
    model.setTokenListRules(PAGE, { refuse: { code: 1 } });
    const refused = model.listTokens(PAGE, { limit: 2 });
    model.setTokenListRules(PAGE, undefined);

    expect(first.ok && first.value.hasMore).toBe(true);
    expect(second.ok === false && second.error).toMatchObject({ status: 500, code: 2 });
    expect(refused.ok === false && refused.error).toMatchObject({ status: 500, code: 1 });
    expect(listAll(model, { limit: 2 })).toEqual(['1', '2', '3', '4']);
  });
});

describe('the Unsubscribe API', () => {
  it('stops every token of the person on the Page, and counts rows naming no one', () => {
    const { model } = aPlatform([
      { psid: '1', topics: ['a', 'b'] },
      { psid: '2', topics: ['a'] },
    ]);

    const answer = model.unsubscribe(PAGE, [{ psid: '1' }, { psid: 'nobody' }]);

    expect(answer).toEqual({ ok: true, value: { invalid_rows_count: 1 } });
    expect(model.tokens(PAGE).map((token) => [token.psid, token.stopped])).toEqual([
      ['1', true],
      ['1', true],
      ['2', false],
    ]);
    expect(listAll(model, {})).toEqual(['2']);
  });

  it('takes a subscriber token as the row, and refuses an empty data list', () => {
    const { model } = aPlatform([{ psid: '1', topics: ['a'] }]);
    const token = model.tokens(PAGE)[0]?.token ?? '';

    expect(model.unsubscribe(PAGE, [{ subscriber_token: token }])).toEqual({
      ok: true,
      value: { invalid_rows_count: 0 },
    });
    expect(model.tokens(PAGE)[0]?.stopped).toBe(true);
    expect(model.unsubscribe(PAGE, []).ok).toBe(false);
  });
});
