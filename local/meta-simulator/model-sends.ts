import { randomUUID } from 'node:crypto';
import type { SendRoute } from './cooldown.ts';
import { capFor } from './frequency-caps.ts';
import { type GraphErrorSpec, graphErrors } from './graph-errors.ts';
import { messageId as newMessageId } from './ids.ts';
import { emitMarketingStatus } from './marketing-status-events.ts';
import { type MarketingSendFacts, optInEvent } from './meta-events.ts';
import {
  type CampaignState,
  cooldownUntil,
  createToken,
  DAY_MS,
  type ModelState,
  personKey,
  personOf,
  SIMULATED_APP,
  type TokenState,
} from './model-state.ts';
import type { ModelResult, SentMessage } from './model-types.ts';
import {
  checkMessage,
  checkOptInTemplate,
  isGraphError,
  type OptInRequest,
} from './request-checks.ts';

/**
 * Every message the platform takes: the opt-in template, a normal message, and the two token
 * routes, which share one admission (`admitTokenSend`).
 */

const OPT_IN_WINDOW_MS = DAY_MS;
const OPT_IN_REPEAT_MS = 7 * DAY_MS;
const FOLLOW_UP_WINDOW_MS = 2 * 60_000;
const FOLLOW_UP_MAX = 3;
const FOLLOW_UP_MAX_CHARS = 250;

type MessageAnswer = { recipient_id: string; message_id: string };
type MarketingAnswer = { success: true; marketing_message_tracking_id: string };

/** The sends of the model, over its state; every refusal by rule is counted. */
export function sendActions(state: ModelState) {
  /** Counts a refusal of a call concerning `psid` on `pageId` (for the frequency caps' "first of a day"). */
  function counted<T>(
    result: ModelResult<T>,
    pageId: string | undefined,
    psid: string | undefined,
  ) {
    if (!result.ok) {
      const person =
        pageId === undefined || psid === undefined ? undefined : personKey(pageId, psid);
      state.refusals.count(result.error, person, state.clock.now());
    }
    return result;
  }
  return {
    /** The opt-in template: allowed inside the 24 h window, once per title per person per 7 days. */
    requestOptIn: (pageId: string, request: OptInRequest) =>
      counted(requestOptIn(state, pageId, request), pageId, request.psid),
    /** A normal message to a PSID: only inside the 24 h window. */
    sendToPerson: (pageId: string, psid: string, message: unknown) =>
      counted(sendToPerson(state, pageId, psid, message), pageId, psid),
    /** Legacy Send API with a token: 48 h rolling, or calendar week/month for old tokens. */
    sendWithToken: (pageId: string, value: string, message: unknown) =>
      counted(sendWithToken(state, pageId, value, message), pageId, state.tokens.get(value)?.psid),
    /** Marketing Message API: 12 h per token; status webhooks follow the answer. */
    sendMarketing: (
      adAccountId: string,
      input: { campaignId: unknown; token: unknown; message: unknown },
    ) => {
      const token = typeof input.token === 'string' ? state.tokens.get(input.token) : undefined;
      return counted(sendMarketing(state, adAccountId, input), token?.pageId, token?.psid);
    },
    /** The calls refused by rule so far (`rule-refusals.ts`). */
    ruleRefusals: () => state.refusals.snapshot(),
  };
}

function requestOptIn(
  state: ModelState,
  pageId: string,
  request: OptInRequest,
): ModelResult<MessageAnswer> {
  const { options, clock } = state;
  const checked = checkOptInTemplate(request);
  if (!checked.ok) return checked;
  const { title, payload, timezone, frequency } = checked.template;
  const who = state.people.get(personKey(pageId, request.psid));
  if (!who) return { ok: false, error: graphErrors.noMatchingUser() };
  if (who.blocked) return { ok: false, error: graphErrors.blocked(state.blockedVariant) };
  const now = clock.now();
  if (who.lastMessageAt === undefined || now - who.lastMessageAt > OPT_IN_WINDOW_MS) {
    return { ok: false, error: graphErrors.outsideWindow(2534022) };
  }
  const requestKey = `${personKey(pageId, who.psid)}\u0000${title}`;
  const previous = state.optInRequests.get(requestKey);
  if (previous !== undefined && now - previous < OPT_IN_REPEAT_MS) {
    return { ok: false, error: graphErrors.optInLimit() };
  }
  state.optInRequests.set(requestKey, now);
  if (who.acceptsOptIn) {
    const zone = who.timezone ?? timezone;
    const token = createToken(state, {
      pageId,
      psid: who.psid,
      topicId: payload,
      title,
      at: now + (options.optInDelayMs ?? 0),
      ...(options.honourOptInFrequency && frequency !== undefined && { frequency }),
      ...(zone !== undefined && { timezone: zone }),
    });
    who.marketingOptOut = false;
    // A shared MM token comes back in the webhook of each topic's opt-in, with that topic's payload.
    state.emit(optInEvent({ ...token, topicId: payload, title }, state.expiryFormat));
  }
  return {
    ok: true,
    value: { recipient_id: who.psid, message_id: newMessageId() },
  };
}

function sendToPerson(
  state: ModelState,
  pageId: string,
  psid: string,
  message: unknown,
): ModelResult<MessageAnswer> {
  const body = checkMessage(message);
  if (isGraphError(body)) return { ok: false, error: body };
  const who = state.people.get(personKey(pageId, psid));
  if (!who) return { ok: false, error: graphErrors.noMatchingUser() };
  if (who.blocked) return { ok: false, error: graphErrors.blocked(state.blockedVariant) };
  const now = state.clock.now();
  if (who.lastMessageAt === undefined || now - who.lastMessageAt > OPT_IN_WINDOW_MS) {
    return { ok: false, error: graphErrors.outsideWindow(2018278) };
  }
  const messageId = newMessageId();
  const sent = record(state, {
    route: 'standard',
    pageId,
    psid,
    message: body,
    at: now,
    messageId,
  });
  return { ok: true, value: { recipient_id: psid, message_id: messageId }, sent };
}

function sendWithToken(
  state: ModelState,
  pageId: string,
  value: string,
  message: unknown,
): ModelResult<MessageAnswer> {
  const body = checkMessage(message);
  if (isGraphError(body)) return { ok: false, error: body };
  const token = state.tokens.get(value);
  if (!token || token.pageId !== pageId) return { ok: false, error: graphErrors.invalidToken() };
  const now = state.clock.now();
  const admitted = admitTokenSend(state, token, 'send_api', body, now);
  if (!admitted.ok) return admitted;
  const messageId = newMessageId();
  const sent = record(state, {
    route: 'send_api',
    pageId,
    psid: token.psid,
    token: token.token,
    topicId: token.topicId,
    topicTitle: token.title,
    message: body,
    at: now,
    messageId,
    ...(admitted.followUp && { followUp: true }),
  });
  return { ok: true, value: { recipient_id: token.psid, message_id: messageId }, sent };
}

function sendMarketing(
  state: ModelState,
  adAccountId: string,
  input: { campaignId: unknown; token: unknown; message: unknown },
): ModelResult<MarketingAnswer> {
  const target = marketingTarget(state, adAccountId, input);
  if (!target.ok) return target;
  const { campaign, token, body } = target.value;
  const now = state.clock.now();
  const admitted = admitTokenSend(state, token, 'marketing_messages', body, now);
  if (!admitted.ok) return admitted;
  const { followUp, failsLater } = admitted;
  // Meta's tracking ids are UUIDs (META_PLATFORM.md section 3).
  const trackingId = randomUUID();
  const sent = record(state, {
    route: 'marketing_messages',
    pageId: token.pageId,
    psid: token.psid,
    token: token.token,
    topicId: token.topicId,
    topicTitle: token.title,
    message: body,
    at: now,
    messageId: trackingId,
    adAccountId,
    campaignId: campaign.id,
    ...(followUp && { followUp }),
    ...(failsLater && {
      failed: {
        code: failsLater.code,
        ...(failsLater.subcode !== undefined && { subcode: failsLater.subcode }),
      },
    }),
  });
  const facts: MarketingSendFacts = {
    appId: SIMULATED_APP.id,
    pageId: token.pageId,
    psid: token.psid,
    token: token.token,
    campaignId: campaign.id,
    trackingId,
    mid: newMessageId(),
  };
  emitMarketingStatus(state, facts, now, failsLater);
  return {
    ok: true,
    value: { success: true, marketing_message_tracking_id: trackingId },
    sent,
  };
}

/** Whether a token send may go now, and what it was. */
type Admission =
  | {
      ok: true;
      /** One of the free follow-ups right after the opt-in (no cooldown counted). */
      followUp: boolean;
      /** Accepted now, reported failed later by a status webhook (`asyncFailures`). */
      failsLater?: GraphErrorSpec;
    }
  | { ok: false; error: GraphErrorSpec };

/**
 * Meta's admission of a send with a token on either route: refused for a block, a stop or the
 * region; free as a follow-up right after the opt-in; else once per cooldown, which a send
 * starts. A marketing send that will fail later (`asyncFailures`) neither counts nor waits.
 */
function admitTokenSend(
  state: ModelState,
  token: TokenState,
  route: SendRoute,
  body: Record<string, unknown>,
  now: number,
): Admission {
  const held = state.ceiling?.refusal(token.pageId);
  if (held) return { ok: false, error: graphErrors.pageCeiling(route, held.until, held.at) };
  const refusal = refusalFor(state, token, route, now);
  if (refusal) {
    const failsLater =
      route === 'marketing_messages' && state.asyncFailures && refusal.reason !== 'region';
    return failsLater
      ? { ok: true, followUp: false, failsLater: refusal }
      : { ok: false, error: refusal };
  }
  if (isFollowUp(state, token, body, now)) {
    token.followUps += 1;
    state.ceiling?.sent(token.pageId);
    return { ok: true, followUp: true };
  }
  const next = cooldownUntil(state, token, route);
  if (next !== undefined && now < next) {
    const showNext = state.options.includeNextEligibleTime ?? false;
    const error =
      route === 'send_api'
        ? graphErrors.legacyCooldown(next, showNext)
        : graphErrors.marketingCooldown(next, now, showNext, state.marketingCooldownCode);
    return { ok: false, error };
  }
  if (route === 'marketing_messages') {
    const cap = marketingCap(state, token, now);
    if (cap) return { ok: false, error: cap };
  }
  token.lastSentAt = now;
  state.ceiling?.sent(token.pageId);
  return { ok: true, followUp: false };
}

/** Meta's frequency cap on an MM send to the token's person, when the model has organic traffic. */
function marketingCap(
  state: ModelState,
  token: TokenState,
  now: number,
): GraphErrorSpec | undefined {
  if (!state.traffic) return undefined;
  const person = personKey(token.pageId, token.psid);
  const sends = (state.marketingSends.get(person) ?? []).filter((at) => at > now - 7 * DAY_MS);
  const cap = capFor(state.traffic, state.options.frequencyCaps ?? {}, person, sends, now);
  if (cap) return graphErrors.frequencyCap(cap);
  sends.push(now);
  state.marketingSends.set(person, sends);
  return undefined;
}

/** Why a token cannot be used now, ignoring cooldown; undefined when it can. */
function refusalFor(
  state: ModelState,
  token: TokenState,
  route: SendRoute,
  now: number,
): GraphErrorSpec | undefined {
  const who = personOf(state, token.pageId, token.psid);
  if (who.blocked) return graphErrors.blocked(state.blockedVariant);
  if (token.stopped) return graphErrors.stopped();
  if (route === 'marketing_messages' && who.marketingOptOut) {
    const first = who.optOutAnswered !== true;
    who.optOutAnswered = true;
    return graphErrors.marketingStopped(first);
  }
  const rules = state.options.regionRules;
  if (rules) {
    const inLegacyRegion = who.country !== undefined && state.legacyCountries.has(who.country);
    if (route === 'marketing_messages' && inLegacyRegion) return graphErrors.regionNotServed();
    if (route === 'send_api' && !inLegacyRegion && now >= rules.legacyOffFrom) {
      return graphErrors.regionNotServed();
    }
  }
  return undefined;
}

/** Whether this send is one of the free follow-ups right after the opt-in. */
function isFollowUp(
  state: ModelState,
  token: TokenState,
  message: Record<string, unknown>,
  now: number,
): boolean {
  if (!state.options.followUpMessages) return false;
  if (now - token.optedInAt > FOLLOW_UP_WINDOW_MS || token.followUps >= FOLLOW_UP_MAX) return false;
  return token.followUps === 0 || textLength(message) <= FOLLOW_UP_MAX_CHARS;
}

function textLength(message: Record<string, unknown>): number {
  return typeof message.text === 'string' ? message.text.length : JSON.stringify(message).length;
}

/** The campaign, token and message of a marketing send, or why the request is invalid. */
function marketingTarget(
  state: ModelState,
  adAccountId: string,
  input: { campaignId: unknown; token: unknown; message: unknown },
): ModelResult<{ campaign: CampaignState; token: TokenState; body: Record<string, unknown> }> {
  if (typeof input.campaignId !== 'string' || input.campaignId === '') {
    return {
      ok: false,
      error: graphErrors.invalidParameter('param message_id must be a campaign id'),
    };
  }
  const campaign = state.campaigns.get(input.campaignId);
  if (!campaign || campaign.adAccountId !== adAccountId) {
    return { ok: false, error: graphErrors.unknownObject(input.campaignId, 'POST') };
  }
  const body = checkMessage(input.message);
  if (isGraphError(body)) return { ok: false, error: body };
  if (typeof input.token !== 'string' || input.token === '') {
    return {
      ok: false,
      error: graphErrors.invalidParameter(
        'param messenger_delivery_data[subscription_token] is required',
      ),
    };
  }
  const token = state.tokens.get(input.token);
  if (!token || token.pageId !== campaign.pageId) {
    return { ok: false, error: graphErrors.invalidToken() };
  }
  return { ok: true, value: { campaign, token, body } };
}

function record(state: ModelState, sent: Omit<SentMessage, 'answered' | 'arrivedAt'>): SentMessage {
  const arrivedAt = (state.options.realNow ?? state.clock.now)();
  const entry: SentMessage = { ...sent, arrivedAt, answered: true };
  // A year-long benchmark counts its sends itself: millions of entries would not fit.
  if (state.options.keepSentLog !== false) state.sentLog.push(entry);
  return entry;
}
