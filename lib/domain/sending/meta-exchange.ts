import { earliestSendAt } from '../cooldown.ts';
import { type MetaErrorEntry, type MetaErrorOutcome, metaRefusalFor } from '../meta-errors.ts';
import type { Page } from '../page.ts';
import type { Subscription } from '../subscription.ts';
import type { Topic } from '../topic.ts';
import type { TrackedSend } from '../tracked-send.ts';
import { earliestFor } from './judge-job.ts';
import type { GraphSendRequest, GraphSendResult, SenderOptions } from './ports.ts';
import {
  cooldownRefusalRetryAt,
  frequencyCapUntil,
  pageHoldUntil,
  rateLimitHoldUntil,
} from './retry-policy.ts';

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

/**
 * The send to keep for its status webhooks: an MM send Meta accepted with a tracking id (the
 * only join key; META_PLATFORM.md section 4). Legacy sends and unanswered ones keep nothing.
 */
export function trackedSendFor(
  page: Page,
  sent: {
    pageId: string;
    psid: string;
    topicId: string;
    token: string;
    sentAt: number;
    editionDate?: string | undefined;
  },
  trackingId: string | undefined,
): TrackedSend | undefined {
  if (page.deliveryRoute !== 'marketing_messages' || page.campaignId === undefined)
    return undefined;
  if (trackingId === undefined) return undefined;
  const { pageId, psid, topicId, token, sentAt, editionDate } = sent;
  const send = { pageId, psid, topicId, token, campaignId: page.campaignId, trackingId, sentAt };
  return editionDate === undefined ? send : { ...send, editionDate };
}

/** Meta's refusal as its row of the Meta error table (META_PLATFORM.md section 5). */
export function classifyRefusal(result: Refusal): MetaErrorEntry {
  return metaRefusalFor(result.status, result.error);
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
  /**
   * Meta refused for good for this person: the subscription takes `status`, and with
   * `everyHolder` so does every subscription of the person holding the same token.
   */
  | {
      kind: 'mark';
      status: 'stopped' | 'invalid' | 'unreachable';
      reason: string;
      everyHolder: boolean;
    }
  /** Meta will not take this slot (conversation gap, region): give it up, keep the subscription. */
  | { kind: 'skip'; reason: 'conversation-gap' | 'region'; detail: string }
  /** Meta's frequency cap: give the slot up and send nothing to the person before `until`. */
  | { kind: 'cap'; until: number; reason: string }
  /** Meta holds the Page's MM sends until `until` (campaign not ready, budget spent). */
  | { kind: 'hold-page'; until: number; reason: string }
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
  const entry = classifyRefusal(result);
  const { outcome } = entry;
  const reason = describeRefusal(result, outcome);
  // META_PLATFORM.md section 5: `remaining_seconds`, when present, is authoritative.
  const remainingMs = result.error?.remainingMs;
  if (outcome === 'cooldown') {
    const retryAt = cooldownRefusalRetryAt({
      now,
      nextEligibleAt: remainingMs !== undefined ? now + remainingMs : result.error?.nextEligibleAt,
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
  if (entry.page === 'rate-hold') {
    const retryAt = rateLimitHoldUntil(remainingMs, result.usage?.regainAccessMs, now);
    return { outcome, kind: 'defer', reason: 'meta-rate-limited', retryAt };
  }
  if (entry.page === 'mm-hold') {
    const why = outcome === 'budget' ? 'budget' : 'campaign-not-ready';
    const until = pageHoldUntil({ why, remainingMs, now, pageZone: page.timezone });
    return { outcome, kind: 'hold-page', until, reason };
  }
  if (entry.subscription !== 'none') {
    const { everyHolder } = entry;
    return { outcome, kind: 'mark', status: entry.subscription, reason, everyHolder };
  }
  if (entry.slot === 'skip') {
    if (outcome === 'frequency-cap') {
      return { outcome, kind: 'cap', until: frequencyCapUntil(remainingMs, now), reason };
    }
    const skipped = outcome === 'region' ? 'region' : 'conversation-gap';
    return { outcome, kind: 'skip', reason: skipped, detail: reason };
  }
  if (entry.slot === 'fail') return { outcome, kind: 'fail', reason };
  if (entry.page === 'pause') return { outcome, kind: 'pause-page', reason };
  if (entry.transient) return { outcome, kind: 'transient', reason };
  // META_PLATFORM.md section 5: an unknown error on a legacy send after the switch-off means
  // the route is off for this audience.
  if (page.deliveryRoute === 'send_api' && now >= context.options.legacySwitchOffAt) {
    return {
      outcome,
      kind: 'pause-page',
      reason: `${reason}: legacy sends are switched off for this audience; the Page needs the Marketing Message API`,
    };
  }
  return { outcome, kind: 'fail', reason };
}
