import { earliestSendAt } from '../cooldown.ts';
import { classifyMetaError, type MetaErrorOutcome } from '../meta-errors.ts';
import type { Page } from '../page.ts';
import type { Subscription } from '../subscription.ts';
import type { Topic } from '../topic.ts';
import { earliestFor } from './judge-job.ts';
import type { GraphSendRequest, GraphSendResult, SenderOptions } from './ports.ts';
import { cooldownRefusalRetryAt, rateLimitHoldUntil } from './retry-policy.ts';

/** An HTTP error answer from Meta to a send. */
export type Refusal = Extract<GraphSendResult, { kind: 'refused' }>;

/** The Graph request for one send over the Page's route. */
export function graphRequestFor(page: Page, token: string, topic: Topic): GraphSendRequest {
  if (page.deliveryRoute === 'marketing_messages') {
    if (page.adAccountId === undefined || page.campaignId === undefined) {
      throw new Error(
        `Page ${page.pageId}: the marketing_messages route needs ad account and campaign`,
      );
    }
    return {
      route: 'marketing_messages',
      adAccountId: page.adAccountId,
      campaignId: page.campaignId,
      accessToken: page.accessToken,
      token,
      message: topic.message,
    };
  }
  return {
    route: 'send_api',
    pageId: page.pageId,
    accessToken: page.accessToken,
    token,
    message: topic.message,
  };
}

/** Meta's error as one of the states of META_PLATFORM.md section 5. */
export function classifyRefusal(result: Refusal): MetaErrorOutcome {
  const outcome = result.error ? classifyMetaError(result.error) : 'unknown';
  // A 5xx that names no known error is Meta having a bad moment.
  return outcome === 'unknown' && result.status >= 500 ? 'transient' : outcome;
}

/** A refusal for logs and stored reasons: code, subcode, HTTP status and trace id, never Meta's text. */
export function describeRefusal(result: Refusal, outcome: MetaErrorOutcome): string {
  const error = result.error;
  const code = error ? `${error.code}/${error.subcode ?? '-'}` : 'no error body';
  const trace = error?.fbtraceId ? `, fbtrace_id ${error.fbtraceId}` : '';
  return `meta error ${code} (HTTP ${result.status}${trace}): ${outcome}`;
}

/** What the sender does about one refusal of a send (its slot already given back). */
export type RefusalAction =
  /** Try this job again from `retryAt`; a rate limit also holds the Page's sends until then. */
  | { kind: 'defer'; reason: 'meta-cooldown' | 'meta-rate-limited'; retryAt: number }
  /** Meta refused for good for this person: the subscription takes `status`. */
  | { kind: 'mark'; status: 'stopped' | 'invalid' | 'unreachable'; reason: string }
  /** Meta refused for the whole Page: every send of it stops until an operator acts. */
  | { kind: 'pause-page'; reason: string }
  /** Meta had a bad moment: retry with backoff, within the attempts allowed. */
  | { kind: 'transient'; reason: string }
  /** Nothing known to do: the job fails and ends in the DLQ with its reason. */
  | { kind: 'fail'; reason: string };

/** A refusal's action, with the state of META_PLATFORM.md section 5 it was read as. */
export type RefusalVerdict = RefusalAction & { outcome: MetaErrorOutcome };

/** Decides, without a write, what one refusal of a send does (META_PLATFORM.md section 5). */
export function refusalVerdict(
  result: Refusal,
  context: {
    page: Page;
    subscription: Subscription;
    now: number;
    options: Pick<SenderOptions, 'legacySwitchOffAt'>;
  },
): RefusalVerdict {
  const { page, subscription, now } = context;
  const outcome = classifyRefusal(result);
  const reason = describeRefusal(result, outcome);
  switch (outcome) {
    case 'cooldown': {
      const retryAt = cooldownRefusalRetryAt({
        now,
        nextEligibleAt: result.error?.nextEligibleAt,
        sentBefore: subscription.lastSentAt !== undefined,
        ourEarliest: earliestFor(subscription, page),
        afterCooldownFromNow: earliestSendAt({
          lastSentAt: now,
          route: page.deliveryRoute,
          frequency: subscription.frequency,
          pageZone: page.timezone,
        }),
      });
      return { outcome, kind: 'defer', reason: 'meta-cooldown', retryAt };
    }
    case 'rate-limited': {
      const retryAt = rateLimitHoldUntil(result.usage?.regainAccessMs, now);
      return { outcome, kind: 'defer', reason: 'meta-rate-limited', retryAt };
    }
    case 'stopped':
    case 'unreachable':
      return { outcome, kind: 'mark', status: outcome, reason };
    case 'invalid-token':
      return { outcome, kind: 'mark', status: 'invalid', reason };
    case 'page-token-invalid':
    case 'page-restricted':
    case 'page-permission':
      return { outcome, kind: 'pause-page', reason };
    case 'transient':
      return { outcome, kind: 'transient', reason };
    default:
      if (page.deliveryRoute === 'send_api' && now >= context.options.legacySwitchOffAt) {
        return {
          outcome,
          kind: 'pause-page',
          reason: `${reason}: legacy sends are switched off for this audience; the Page needs the Marketing Message API`,
        };
      }
      return { outcome, kind: 'fail', reason };
  }
}
