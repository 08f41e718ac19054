import { describe, expect, it } from 'vitest';
import { parseDelivery } from '#lib/domain/intake/meta-webhook.ts';
import type { Page } from '#lib/domain/page.ts';
import { applyPolicyEvents, type PolicyEvent } from '#lib/domain/safety/page-policy.ts';
import { PAGE_PAUSED_LOG_MESSAGE } from '#lib/domain/stats.ts';
import { captureLog } from '../../../support/capture-log.ts';
import { aPage } from '../../../support/fixtures.ts';
import { memoryPagePolicy, memoryTable } from '../../../support/memory-ports.ts';

const AT = Date.parse('2026-12-01T15:20:00Z');

function delivery(...messaging: Record<string, unknown>[]): string {
  return JSON.stringify({ object: 'page', entry: [{ id: '1001', time: AT, messaging }] });
}

const policyMessaging = (policy: unknown, key = 'policy_enforcement', timestamp = AT) => ({
  recipient: { id: '1001' },
  timestamp,
  [key]: policy,
});

describe('parseDelivery: messaging_policy_enforcement', () => {
  it.each([
    ['a warning with its reason', { action: 'warning', reason: 'spam reports' }],
    ['a block with its reason', { action: 'block', reason: 'policy violation' }],
  ])('reads %s', (_, policy) => {
    const parsed = parseDelivery(delivery(policyMessaging(policy)));

    expect(parsed.events).toEqual([
      { kind: 'policy', pageId: '1001', timestamp: AT, policy: { ...policy, at: AT } },
    ]);
  });

  it('reads an unblock, which has no reason', () => {
    const parsed = parseDelivery(delivery(policyMessaging({ action: 'unblock' })));

    expect(parsed.events).toEqual([
      { kind: 'policy', pageId: '1001', timestamp: AT, policy: { action: 'unblock', at: AT } },
    ]);
  });

  it('accepts the older hyphenated key', () => {
    const parsed = parseDelivery(
      delivery(policyMessaging({ action: 'block', reason: 'r' }, 'policy-enforcement')),
    );

    expect(parsed.events).toMatchObject([{ kind: 'policy', policy: { action: 'block' } }]);
  });

  it.each([
    [
      'an unknown action',
      { action: 'suspend' },
      "a policy_enforcement with the unknown action 'suspend'",
    ],
    ['no action', { reason: 'r' }, 'a policy_enforcement that is not an object with an action'],
    [
      'a text instead of an object',
      'block',
      'a policy_enforcement that is not an object with an action',
    ],
    [
      'a reason that is not text',
      { action: 'block', reason: 7 },
      'a policy_enforcement whose reason is malformed',
    ],
  ])('ignores %s, naming it, and keeps the rest of the delivery', (_, policy, ignored) => {
    const parsed = parseDelivery(
      delivery(policyMessaging(policy), policyMessaging({ action: 'warning', reason: 'r' })),
    );

    expect(parsed.ignored).toEqual([ignored]);
    expect(parsed.events).toHaveLength(1);
  });
});

describe('applyPolicyEvents', () => {
  const event = (
    action: 'warning' | 'block' | 'unblock',
    at = AT,
    reason?: string,
  ): PolicyEvent => ({
    kind: 'policy',
    pageId: '1001',
    timestamp: at,
    policy: { action, at, ...(reason !== undefined && { reason }) },
  });
  function world(page: Page = aPage()) {
    const table = memoryTable({ pages: [page] });
    const log = captureLog();
    const deps = { policies: memoryPagePolicy(table), log };
    const alarms = () => log.entries.filter((entry) => entry.message === PAGE_PAUSED_LOG_MESSAGE);
    return { table, log, deps, alarms, page: () => table.pages.get('1001') };
  }

  it.each(['warning', 'block'] as const)(
    'pauses the Page on a %s with Meta’s reason, and alarms',
    async (action) => {
      const w = world();

      await applyPolicyEvents([event(action, AT, 'spam reports')], w.deps);

      expect(w.page()).toMatchObject({
        status: 'paused',
        pausedReason: `Meta policy enforcement (${action}): spam reports`,
        policy: { action, reason: 'spam reports', at: AT },
      });
      expect(w.alarms()).toEqual([expect.objectContaining({ level: 'error', pageId: '1001' })]);
    },
  );

  it('records an unblock and leaves the Page paused for the operator to set active', async () => {
    const w = world(aPage({ status: 'paused', pausedReason: 'Meta policy enforcement (block)' }));

    await applyPolicyEvents([event('unblock', AT + 1)], w.deps);

    expect(w.page()).toMatchObject({ status: 'paused', policy: { action: 'unblock', at: AT + 1 } });
    expect(w.log.entries).toContainEqual(
      expect.objectContaining({ level: 'warn', message: 'page unblocked by Meta' }),
    );
  });

  it('lets the newest event win whatever the order, and alarms once on a duplicate', async () => {
    const w = world();

    await applyPolicyEvents([event('unblock', AT + 60_000), event('block', AT, 'r')], w.deps);
    await applyPolicyEvents([event('block', AT, 'r')], w.deps);

    expect(w.page()).toMatchObject({ policy: { action: 'unblock' } });
    // Applied in time order: the block paused it once, the later unblock was recorded after.
    expect(w.alarms()).toHaveLength(1);
  });

  it('changes nothing for a Page that is not registered', async () => {
    const w = world();

    await applyPolicyEvents([{ ...event('block'), pageId: '2002' }], w.deps);

    expect(w.table.writes).toEqual([]);
    expect(w.alarms()).toEqual([]);
  });
});
