import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../../cli/commands.ts';
import { eraseCommand, reconcileCommand } from '../../../cli/people-commands.ts';

const io = { env: {}, stdout: () => {}, stderr: () => {}, readStdin: async () => '' };

describe('recurrent pages put --default-topic', () => {
  it('sends the topic id, and null for - (removes it)', async () => {
    const command = COMMANDS['pages put'];
    if (!command) throw new Error('no pages put command');

    const set = await command.build({ 'default-topic': 'daily-deals' }, ['1001'], io);
    const removed = await command.build({ 'default-topic': '-' }, ['1001'], io);

    expect(set.body).toEqual({ defaultTopicId: 'daily-deals' });
    expect(removed.body).toEqual({ defaultTopicId: null });
  });
});

describe('recurrent erase', () => {
  it('says what Meta was told, and when a pending one is retried', () => {
    const erased = { subscriptions: 1, contact: 1, tokens: 1, other: 0 };
    const body = (meta: unknown) => ({ pageId: '1001', psid: '5001', erased, meta });

    expect(eraseCommand.render(body({ status: 'unsubscribed' }), {})).toBe(
      'Erased 5001 of Page 1001: 1 subscription, 1 contact record, 1 token directory entry.\nMeta unsubscribed the person.',
    );
    expect(
      eraseCommand.render(
        body({ status: 'pending', reason: 'Meta error 2', retryAt: '2026-11-21T04:00:00.000Z' }),
        {},
      ),
    ).toContain('Meta was not told (Meta error 2): retried from 2026-11-21T04:00:00.000Z');
  });
});

describe('recurrent reconcile', () => {
  it('prints joins, unknown people, missing and stopped subscriptions, and a capped list', () => {
    const text = reconcileCommand.render(
      {
        scanned: 10_000,
        added: 2,
        alreadyKnown: 9_990,
        keptNewer: 0,
        joined: 2,
        unknownPeople: 0,
        erasurePending: 1,
        unmatchedTitles: [],
        unmatchedTokens: 0,
        markedMissing: 0,
        stopped: 3,
        complete: false,
        capped: true,
      },
      { page: '1001' },
    );

    expect(text.split('\n')).toEqual([
      'Page 1001: Meta listed 10000 tokens; 2 added, 9990 already known, 0 kept newer local state.',
      '2 people joined the default topic, 1 erased person left out, 3 subscriptions stopped (missing a day later too).',
      "Meta's list ended at its 10,000-person cap: nobody was marked missing.",
    ]);
  });
});
