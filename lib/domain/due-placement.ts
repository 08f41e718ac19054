import type { SaveOutcome, SubscriptionStore } from './ports.ts';
import type { Subscription } from './subscription.ts';
import type { Cadence, Topic } from './topic.ts';

/**
 * Where an active subscription is due: its cadence and zone (the Page and topic are its own).
 * How the index spreads one placement over partitions is the store's business.
 */
export interface DuePlacement {
  cadence: Cadence;
  zone: string;
}

/** One (cadence, topic, zone) group of due subscriptions, which the index may spread wide. */
export interface DueGroup extends DuePlacement {
  pageId: string;
  topicId: string;
}

/**
 * An active subscription with a token is due under its own cadence (an old token's
 * frequency, else its topic's) once its topic exists; none while it cannot be sent.
 */
export function duePlacement(
  subscription: Subscription,
  topic: Topic | undefined,
): DuePlacement | undefined {
  if (subscription.status !== 'active' || subscription.token === undefined || !topic) {
    return undefined;
  }
  return { cadence: subscription.frequency ?? topic.cadence, zone: subscription.timezone };
}

/** How many times a write that lost the optimistic lock is planned again from a fresh read. */
const MAX_ATTEMPTS = 8;

/** A write planned from the state read, with the due placement it gives the subscription. */
export interface DueWrite {
  placement: DuePlacement | undefined;
  save(): Promise<SaveOutcome>;
}

/**
 * Saves a subscription where the fan-out can find it. The topic's zone is recorded before the
 * write that makes the subscription findable through it (the fan-out reads only the zones
 * recorded), and a write that lost the optimistic lock is planned again from a fresh read, so
 * a concurrent write is never overwritten. Gives the write saved, or undefined when the plan
 * found nothing to write; throws `failure` after 8 lost attempts.
 */
export async function saveZoneFirst<State, Write extends DueWrite>(
  first: State,
  steps: {
    plan(state: State): Promise<Write | undefined>;
    recordZone(placement: DuePlacement): Promise<void>;
    reread(): Promise<State>;
  },
  failure: string,
): Promise<Write | undefined> {
  let state = first;
  for (let attempt = 1; ; attempt++) {
    const write = await steps.plan(state);
    if (!write) return undefined;
    if (write.placement) await steps.recordZone(write.placement);
    if ((await write.save()) === 'saved') return write;
    if (attempt === MAX_ATTEMPTS) throw new Error(failure);
    state = await steps.reread();
  }
}

/**
 * Records each (topic, cadence, zone) once for as long as it lives (one delivery, one
 * indexing run, one webhook container); a failed write is forgotten, so the next caller tries
 * again.
 */
export function topicZoneRecorder(store: Pick<SubscriptionStore, 'addTopicZones'>) {
  const recorded = new Map<string, Promise<void>>();
  return (pageId: string, topicId: string, placement: DuePlacement): Promise<void> => {
    const id = JSON.stringify([pageId, topicId, placement.cadence, placement.zone]);
    let write = recorded.get(id);
    if (!write) {
      write = store.addTopicZones(pageId, topicId, [placement]);
      recorded.set(id, write);
      write.catch(() => recorded.delete(id));
    }
    return write;
  };
}
