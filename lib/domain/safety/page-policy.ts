import * as z from 'zod';
import type { Log } from '../../log.ts';
import type { PagePolicy } from '../page.ts';
import { PAGE_PAUSED_LOG_MESSAGE } from '../stats.ts';

/**
 * Meta's `messaging_policy_enforcement` webhooks (META_PLATFORM.md section 3): a warning or a
 * block means Meta is restricting the Page, so Recurrent pauses it with Meta's reason; an
 * unblock is recorded for the operator, who sets the Page active again.
 */

/** The keys a policy event arrives under: older deliveries use the hyphen. */
export const POLICY_KEYS = ['policy_enforcement', 'policy-enforcement'] as const;

/** The longest reason kept: Meta's are a sentence; the bound keeps the Page item small. */
const REASON_MAX_CHARS = 1000;

/** One policy event of a delivery, for one Page. */
export interface PolicyEvent {
  kind: 'policy';
  pageId: string;
  timestamp: number;
  policy: PagePolicy;
}

const policySchema = z.looseObject({
  action: z.enum(['warning', 'block', 'unblock']),
  reason: z.string().optional(),
});

/** A policy event, or why it is ignored (an unknown action, a malformed body). */
export function parsePolicyEnforcement(
  raw: unknown,
  pageId: string,
  timestamp: number,
): PolicyEvent | { ignored: string } {
  const parsed = policySchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const action = z.looseObject({ action: z.string() }).safeParse(raw);
    if (!action.success)
      return { ignored: 'a policy_enforcement that is not an object with an action' };
    if (issue?.path[0] === 'action') {
      return {
        ignored: `a policy_enforcement with the unknown action '${action.data.action.slice(0, 40)}'`,
      };
    }
    return {
      ignored: `a policy_enforcement whose ${issue?.path.join('.') ?? 'body'} is malformed`,
    };
  }
  const { action, reason } = parsed.data;
  return {
    kind: 'policy',
    pageId,
    timestamp,
    policy: {
      action,
      at: timestamp,
      ...(reason !== undefined &&
        action !== 'unblock' && {
          reason: reason.slice(0, REASON_MAX_CHARS),
        }),
    },
  };
}

/** The Page's record of Meta's policy events. */
export interface PagePolicyStore {
  /**
   * Records `policy` on the Page if it is newer than the one recorded, and pauses the Page
   * with `pausedReason` when one is given; false when the Page is unknown or knows a newer one.
   */
  recordPolicy(pageId: string, policy: PagePolicy, pausedReason?: string): Promise<boolean>;
}

/** Why a warning or block paused a Page, as operators read it. */
export function policyPauseReason(policy: PagePolicy): string {
  return `Meta policy enforcement (${policy.action})${policy.reason ? `: ${policy.reason}` : ''}`;
}

/**
 * Applies a delivery's policy events in time order. The newest event per Page wins (a late
 * warning after an unblock changes nothing), and a duplicate is not newer: one alarm.
 */
export async function applyPolicyEvents(
  events: readonly PolicyEvent[],
  deps: { policies: PagePolicyStore; log: Log },
): Promise<void> {
  const ordered = [...events].sort((a, b) => a.timestamp - b.timestamp);
  for (const { pageId, policy } of ordered) {
    const pauses = policy.action !== 'unblock';
    const reason = pauses ? policyPauseReason(policy) : undefined;
    const recorded = await deps.policies.recordPolicy(pageId, policy, reason);
    if (!recorded) {
      deps.log.info('policy enforcement not newer than the recorded one', {
        pageId,
        action: policy.action,
      });
    } else if (pauses) {
      // Meta is restricting the Page: an operator must act before it sends again.
      deps.log.error(PAGE_PAUSED_LOG_MESSAGE, { pageId, reason, source: 'policy_enforcement' });
    } else {
      deps.log.warn('page unblocked by Meta', {
        pageId,
        next: 'set the Page active again: recurrent pages put <id> --status active',
      });
    }
  }
}
