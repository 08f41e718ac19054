import { fixedClock } from '#lib/clock.ts';
import type { Page } from '#lib/domain/page.ts';
import type { SendJob } from '#lib/domain/send-job.ts';
import type { Refusal } from '#lib/domain/sending/meta-exchange.ts';
import {
  DEFAULT_SENDER_OPTIONS,
  type GraphSendRequest,
  type GraphSendResult,
  type RateLimiter,
  type SenderDeps,
} from '#lib/domain/sending/ports.ts';
import type { SendOutcome, SendRecord } from '#lib/domain/sending/send-outcome.ts';
import { slotAtOrBefore } from '#lib/domain/slots.ts';
import type { Subscription } from '#lib/domain/subscription.ts';
import type { Topic } from '#lib/domain/topic.ts';
import { silentLog } from '#lib/log.ts';
import { aPage } from '../../../support/fixtures.ts';
import {
  memoryCatalog,
  memoryJobQueue,
  memoryRateLimiter,
  memorySendStore,
  memoryStatsStore,
  memorySubscriptionStore,
  memoryTable,
  storedSubscription,
  subscriptionView,
} from '../../../support/memory-ports.ts';

export const HOUR_MS = 3_600_000;
export const NOW = Date.parse('2026-11-21T09:00:30Z');
export const RULE = { cadence: 'DAILY', sendTime: '10:00' } as const;
export const ZONE = 'Europe/Paris';
/** The slot every job below is for. */
export const SLOT = slotAtOrBefore(RULE, ZONE, NOW);

/** The Page every job below is for (its zone is `ZONE`). */
export { aPage };

export function aTopic(overrides: Partial<Topic> = {}): Topic {
  return {
    pageId: '1001',
    topicId: 'deals',
    title: 'Deals',
    ...RULE,
    message: { text: 'hi' },
    ...overrides,
  };
}

export function aSubscription(overrides: Partial<Subscription> = {}): Subscription {
  return {
    pageId: '1001',
    psid: 'p1',
    topicId: 'deals',
    status: 'active',
    token: 'tok-p1',
    timezone: ZONE,
    lastEventAt: NOW - 30 * 24 * HOUR_MS,
    activeSince: NOW - 30 * 24 * HOUR_MS,
    version: 1,
    ...overrides,
  };
}

export function aJob(overrides: Partial<SendJob> = {}): SendJob {
  return {
    pageId: '1001',
    psid: 'p1',
    topicId: 'deals',
    slot: SLOT,
    scheduledTime: NOW,
    ...overrides,
  };
}

export function aRecord(job: SendJob | string, receiveCount = 1, id = 'm1'): SendRecord {
  return {
    id,
    body: typeof job === 'string' ? job : JSON.stringify(job),
    receiveCount,
    handle: `handle-${id}`,
  };
}

/** The sender's ports in memory (`test/support/memory-ports.ts`), on a fixed clock, and Meta scripted. */
export function world(
  options: {
    pages?: Page[];
    topics?: Topic[];
    subscriptions?: Subscription[];
    answer?: (request: GraphSendRequest) => GraphSendResult;
    rate?: RateLimiter;
  } = {},
) {
  const clock = fixedClock(NOW);
  const table = memoryTable({
    pages: options.pages ?? [aPage()],
    topics: options.topics ?? [aTopic()],
    subscriptions: options.subscriptions ?? [aSubscription()],
  });
  const rate = memoryRateLimiter({ burst: DEFAULT_SENDER_OPTIONS.burst });
  const queue = memoryJobQueue();
  const stats = memoryStatsStore();
  const sent: { request: GraphSendRequest; at: number }[] = [];
  const deps: SenderDeps = {
    subscriptions: memorySubscriptionStore(table),
    catalog: memoryCatalog(table),
    sends: memorySendStore(table),
    rate: options.rate ?? rate.limiter,
    queue: queue.queue,
    graph: {
      send: async (request) => {
        sent.push({ request, at: clock.now() });
        return options.answer?.(request) ?? { kind: 'accepted', messageId: `m_${sent.length}` };
      },
    },
    stats: stats.stats,
    clock,
    sleep: virtualSleep(clock),
    random: () => 0,
    log: silentLog,
  };
  return {
    deps,
    clock,
    table,
    sent,
    deferred: queue.deferred,
    increments: stats.added,
    takes: rate.takes,
    pressures: rate.pressures,
    /** The claims and releases, in order, with the psid they were for. */
    writes: () =>
      table.writes
        .filter((write) => write.kind === 'claim' || write.kind === 'release')
        .map((write) => ({ kind: write.kind, psid: write.key.split('#')[1] })),
    /** The subscription as the sender reads it (a copy). */
    subscription: (psid = 'p1') => {
      const item = storedSubscription(table, { pageId: '1001', psid, topicId: 'deals' });
      return item && subscriptionView(item);
    },
    /** The subscription as stored, for a test to change under the sender. */
    stored: (psid = 'p1') => storedSubscription(table, { pageId: '1001', psid, topicId: 'deals' }),
    page: (pageId = '1001') => table.pages.get(pageId),
  };
}

/** The outcomes of a batch, throwing the first rejection. */
export function values(results: PromiseSettledResult<SendOutcome>[]): SendOutcome[] {
  return results.map((result) => {
    if (result.status === 'rejected') throw result.reason;
    return result.value;
  });
}

/** Meta's HTTP error answer with this code and subcode. */
export const refused = (code: number, subcode?: number, status = 400): Refusal => ({
  kind: 'refused',
  status,
  error: { code, ...(subcode !== undefined && { subcode }), fbtraceId: 'trace' },
});

/**
 * Sleeps on the fixed clock: sleepers wake one at a time, earliest first, each moving the
 * clock to its own wake-up time, as concurrent timers would.
 */
function virtualSleep(clock: ReturnType<typeof fixedClock>) {
  const sleepers: { until: number; wake: () => void }[] = [];
  const wakeNext = () => {
    sleepers.sort((a, b) => a.until - b.until);
    const next = sleepers.shift();
    if (!next) return;
    clock.set(Math.max(clock.now(), next.until));
    next.wake();
    if (sleepers.length > 0) setImmediate(wakeNext);
  };
  return (ms: number) =>
    new Promise<void>((resolve) => {
      sleepers.push({ until: clock.now() + ms, wake: resolve });
      if (sleepers.length === 1) setImmediate(wakeNext);
    });
}
