import { describe, expect, it } from 'vitest';
import type { SubscriptionEvent } from '#lib/domain/subscription.ts';
import { applyEvent, resolveZone, type Subscription } from '#lib/domain/subscription.ts';

const T0 = 1_763_715_600_000;

function anEvent(overrides: Partial<SubscriptionEvent> & { kind: SubscriptionEvent['kind'] }) {
  return {
    pageId: '1001',
    psid: '5001',
    topicId: 'daily-deals',
    timestamp: T0,
    token: 'tok-1',
    ...overrides,
  } as SubscriptionEvent;
}

function applyAll(events: SubscriptionEvent[]): Subscription | undefined {
  let state: Subscription | undefined;
  for (const event of events) state = applyEvent(state, event, {})?.next ?? state;
  return state;
}

describe('applyEvent', () => {
  it('creates an active subscription from an opt-in', () => {
    const applied = applyEvent(undefined, anEvent({ kind: 'optin', timezone: 'Asia/Kolkata' }), {});

    expect(applied?.change).toBe('optin');
    expect(applied?.next).toMatchObject({
      status: 'active',
      token: 'tok-1',
      timezone: 'Asia/Kolkata',
      lastEventAt: T0,
      activeSince: T0,
    });
  });

  it('falls back to the Page zone, then UTC, for a missing or unknown zone', () => {
    const withPage = applyEvent(undefined, anEvent({ kind: 'optin', timezone: 'Mars/Base' }), {
      pageZone: 'Europe/Madrid',
    });
    const without = applyEvent(undefined, anEvent({ kind: 'optin' }), {});

    expect(withPage?.next.timezone).toBe('Europe/Madrid');
    expect(without?.next.timezone).toBe('UTC');
  });

  it('stops and resumes by timestamp', () => {
    const state = applyAll([
      anEvent({ kind: 'optin' }),
      anEvent({ kind: 'stop', timestamp: T0 + 1000 }),
      anEvent({ kind: 'resume', timestamp: T0 + 2000 }),
    ]);

    expect(state).toMatchObject({ status: 'active', activeSince: T0 + 2000 });
  });

  it('ignores a stop older than the current state', () => {
    const resumed = applyAll([
      anEvent({ kind: 'optin' }),
      anEvent({ kind: 'resume', timestamp: T0 + 2000 }),
    ]);

    const applied = applyEvent(resumed, anEvent({ kind: 'stop', timestamp: T0 + 1000 }), {});

    expect(applied).toBeUndefined();
  });

  it('changes nothing when the same event is applied twice', () => {
    const once = applyAll([anEvent({ kind: 'optin' })]);

    expect(applyEvent(once, anEvent({ kind: 'optin' }), {})).toBeUndefined();
  });

  it('reaches the same state whatever the arrival order', () => {
    const optin = anEvent({ kind: 'optin', timezone: 'Europe/Paris' });
    const stop = anEvent({ kind: 'stop', timestamp: T0 + 1000, token: undefined });

    const inOrder = applyAll([optin, stop]);
    const reversed = applyAll([stop, optin]);

    expect(reversed).toMatchObject({ status: 'stopped', token: 'tok-1' });
    expect(reversed?.status).toBe(inOrder?.status);
    expect(reversed?.token).toBe(inOrder?.token);
  });

  it('replaces token facts on a re-opt-in', () => {
    const old = applyAll([anEvent({ kind: 'optin', frequency: 'WEEKLY', tokenExpiresAt: T0 + 1 })]);

    const next = applyEvent(old, anEvent({ kind: 'optin', timestamp: T0 + 5, token: 'tok-2' }), {});

    expect(next?.next.token).toBe('tok-2');
    expect(next?.next.frequency).toBeUndefined();
    expect(next?.next.tokenExpiresAt).toBeUndefined();
  });
});

describe('resolveZone', () => {
  it('takes the first valid zone', () => {
    expect(resolveZone(undefined, 'Nope/Nope', 'Asia/Tokyo')).toBe('Asia/Tokyo');
  });
});
