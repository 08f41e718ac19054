import type { Clock } from '../../clock.ts';
import { mapWithConcurrency } from '../../concurrency.ts';
import type { Log } from '../../log.ts';
import { metaErrorFor } from '../meta-errors.ts';
import type { PersonKey, SubscriptionStore } from '../ports.ts';
import { type createStatsTally, UNMATCHED_TOPIC } from '../stats.ts';
import {
  countersFor,
  type SendRef,
  type StatusMove,
  type TrackedSendStore,
} from '../tracked-send.ts';
import type { MarketingStatusEvent, WebhookEvent } from './meta-webhook.ts';

/** What joining status webhooks to their sends reads and writes. */
export interface MarketingStatusDeps {
  tracked: TrackedSendStore;
  subscriptions: Pick<SubscriptionStore, 'findByToken' | 'markHolders' | 'markStatus'>;
  clock: Clock;
  log: Log;
}

const CONCURRENCY = 64;
/** The longest part of Meta's failure text a log line keeps. */
const LOGGED_REASON_CHARS = 200;

/**
 * Joins each marketing status to the send it is about and moves that send's status forward,
 * counting each move on the send's topic and day; a status no kept send joins is counted as
 * `unmatched` on the Page. A failure that names a dead or stopped token also sets that status.
 */
export async function applyMarketingStatuses(
  events: readonly WebhookEvent[],
  deps: MarketingStatusDeps,
  tally: ReturnType<typeof createStatsTally>,
): Promise<void> {
  const statuses = events.filter(
    (event): event is MarketingStatusEvent => event.kind === 'marketing-status',
  );
  const unmatched = new Map<string, number>();
  await mapWithConcurrency(statuses, CONCURRENCY, async (event) => {
    const now = deps.clock.now();
    const ref = refOf(event, now);
    const move: StatusMove = ref
      ? await deps.tracked.advance(ref, event.status, now)
      : { kind: 'unmatched' };
    if (move.kind === 'unmatched') {
      tally.count(event.pageId, UNMATCHED_TOPIC, event.timestamp || now, 'unmatched');
      unmatched.set(event.pageId, (unmatched.get(event.pageId) ?? 0) + 1);
    } else if (move.kind === 'moved') {
      const { send } = move;
      // Counted on the day of the send, so any arrival order lands on the same day.
      for (const counter of countersFor(move.from, event.status)) {
        tally.count(send.pageId, send.topicId, send.sentAt, counter);
        if (send.editionDate)
          tally.countEdition(send.pageId, send.topicId, send.editionDate, counter);
      }
    }
    if (event.status === 'failed') {
      const person = move.kind === 'unmatched' ? undefined : move.send;
      await applyFailure(event, person, deps);
    }
  });
  if (unmatched.size > 0) {
    deps.log.info('marketing statuses unmatched', { perPage: Object.fromEntries(unmatched) });
  }
}

/** How the event names its send: tracking id first, else token and campaign at its time. */
function refOf(event: MarketingStatusEvent, now: number): SendRef | undefined {
  const { token, trackingId, campaignId } = event;
  if (token === undefined) return undefined;
  if (trackingId !== undefined) return { token, trackingId };
  if (campaignId !== undefined) return { token, campaignId, at: event.timestamp || now };
  return undefined;
}

/** A failure's effect on the subscriptions holding its token, when Meta's code names one. */
async function applyFailure(
  event: MarketingStatusEvent,
  joined: (PersonKey & { topicId: string }) | undefined,
  deps: MarketingStatusDeps,
): Promise<void> {
  const fields = {
    pageId: event.pageId,
    ...(joined && { psid: joined.psid, topicId: joined.topicId }),
    ...(event.errorMessage !== undefined && {
      reason: event.errorMessage.slice(0, LOGGED_REASON_CHARS),
    }),
  };
  const { error, token } = event;
  if (!error || token === undefined) {
    deps.log.warn('marketing message delivery failed', fields);
    return;
  }
  const entry = metaErrorFor(error);
  const reason = `marketing message delivery failed: ${error.code}/${error.subcode ?? '-'}`;
  if (entry.subscription === 'none') {
    deps.log.warn('marketing message delivery failed', { ...fields, outcome: entry.outcome });
    return;
  }
  const owner = joined ?? (await deps.subscriptions.findByToken(token));
  if (!owner) return;
  const { pageId, psid, topicId } = owner;
  // An MM token is per person and Page: dead or stopped for every topic that holds it.
  if (entry.everyHolder) {
    await deps.subscriptions.markHolders({ pageId, psid }, token, entry.subscription, reason);
  } else {
    await deps.subscriptions.markStatus({ pageId, psid, topicId }, entry.subscription, reason);
  }
}
