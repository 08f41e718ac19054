import { isEligibleInSlot, routeCooldownMs } from '../cooldown.ts';
import type { Page } from '../page.ts';
import type { ConversationHour } from '../safety/conversation-counts.ts';
import type { SendJob } from '../send-job.ts';
import { nextSlotAfter } from '../slots.ts';
import type { Subscription } from '../subscription.ts';
import { compareTopicPriority, type Topic } from '../topic.ts';

/**
 * On the Marketing Message API a person has one token per Page and Meta's 12 h cooldown counts
 * per token, across topics (META_PLATFORM.md section 4.1): one message per person per 12 h.
 */
export const PERSON_BUDGET_MS = routeCooldownMs('marketing_messages');

/** A person's Marketing Message budget on a Page (per token), as the send that last spent it left it. */
export interface PersonBudget {
  /** When that send's request left (or is to leave): the 12 h run from here. */
  sentAt: number;
  /** The slot and topic it was spent on. */
  slot: number;
  topicId: string;
  /** The queue message that spent it; it alone may take the budget up again after a crash. */
  claimedBy: string;
}

/** Another subscription of the person that holds the same token, with its topic. */
export interface BudgetHolder {
  subscription: Subscription;
  topic?: Topic;
}

/** What the sender knows of the person behind a job, read with one query of their partition. */
export interface PersonView {
  /** The person's other subscriptions on the Page that hold the job's token. */
  holders: readonly BudgetHolder[];
  /** The budget of the job's token; none when it was never spent (or its item expired). */
  budget?: PersonBudget;
  /** The person's conversations with the Page per hour, for the frequency-cap forecast. */
  conversations?: readonly ConversationHour[];
}

/** What the budget says of a job: it may go once the budget is free, or it is skipped. */
export type BudgetVerdict = { kind: 'go'; freeAt: number } | { kind: 'skip'; detail: string };

/** Whether the budget was spent by this very message on this job and never finished (a crash). */
export function isOwnBudget(
  budget: PersonBudget,
  job: Pick<SendJob, 'slot' | 'topicId'>,
  claimant: string | undefined,
): boolean {
  return (
    claimant !== undefined &&
    budget.claimedBy === claimant &&
    budget.slot === job.slot &&
    budget.topicId === job.topicId
  );
}

/**
 * Reads the budget for one job. Another topic that spent it for a slot less than 12 h before
 * this one (or for a later slot) has this slot: the job is skipped. A budget spent for a slot
 * 12 h or more earlier whose request left late only delays the job until it is free, as Meta's
 * cooldown counts in real time.
 */
export function budgetVerdict(
  budget: PersonBudget | undefined,
  job: Pick<SendJob, 'slot' | 'topicId'>,
  claimant: string | undefined,
): BudgetVerdict {
  if (budget === undefined || isOwnBudget(budget, job, claimant)) return { kind: 'go', freeAt: 0 };
  if (budget.topicId !== job.topicId && budget.slot > job.slot - PERSON_BUDGET_MS) {
    return {
      kind: 'skip',
      detail: `topic ${budget.topicId} was sent for ${new Date(budget.slot).toISOString()}`,
    };
  }
  return { kind: 'go', freeAt: budget.sentAt + PERSON_BUDGET_MS };
}

/**
 * The slot of a topic the person ranks higher (`compareTopicPriority`) that falls due within
 * 12 h either side of this job's slot and that the person is still eligible for: this job
 * yields to it, even when it is due first (the DAILY 09:00 yields to Monday's WEEKLY 10:00).
 * Slots before `now - staleAfterMs` are past sending and do not count.
 */
export function higherTopicDue(input: {
  job: Pick<SendJob, 'slot' | 'topicId'>;
  topic: Topic;
  page: Page;
  holders: readonly BudgetHolder[];
  now: number;
  staleAfterMs: number;
}): { topicId: string; slot: number } | undefined {
  const { job, page } = input;
  const from = Math.max(job.slot - PERSON_BUDGET_MS + 1, input.now - input.staleAfterMs);
  const to = job.slot + PERSON_BUDGET_MS;
  for (const { subscription, topic } of input.holders) {
    if (topic === undefined || topic.topicId === job.topicId) continue;
    if (subscription.status !== 'active' || compareTopicPriority(topic, input.topic) >= 0) {
      continue;
    }
    for (
      let slot = nextSlotAfter(topic, subscription.timezone, from - 1);
      slot < to;
      slot = nextSlotAfter(topic, subscription.timezone, slot)
    ) {
      // Capped until then, it will not be sent in that slot either.
      if (subscription.cappedUntil !== undefined && subscription.cappedUntil > slot) continue;
      const eligible = isEligibleInSlot({
        slot,
        rule: topic,
        zone: subscription.timezone,
        route: page.deliveryRoute,
        frequency: subscription.frequency,
        pageZone: page.timezone,
        lastSlot: subscription.lastSlot,
        activeSince: subscription.activeSince,
        tokenExpiresAt: subscription.tokenExpiresAt,
      });
      if (eligible) return { topicId: topic.topicId, slot };
    }
  }
  return undefined;
}
