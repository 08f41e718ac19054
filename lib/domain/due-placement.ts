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
