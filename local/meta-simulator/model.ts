import { IANAZone } from 'luxon';
import type { Clock } from '#lib/clock.ts';
import {
  LEGACY_COOLDOWN_MS,
  MARKETING_COOLDOWN_MS,
  nextEligibleAt,
  type SendRoute,
  type TokenFrequency,
} from './cooldown.ts';
import { type BlockedError, type GraphErrorSpec, graphErrors } from './graph-errors.ts';
import { messageId as newMessageId, newToken, numericId } from './ids.ts';
import {
  inboundEvent,
  marketingEvent,
  optInEvent,
  statusEvent,
  type TokenExpiryFormat,
  type TokenFacts,
  type TokenNode,
  tokenNode,
} from './meta-events.ts';
import {
  checkMessage,
  checkOptInTemplate,
  isGraphError,
  type OptInRequest,
} from './request-checks.ts';
import type { OutgoingEvent } from './webhook-delivery.ts';

export type { TokenExpiryFormat, TokenNode } from './meta-events.ts';
export type { OptInRequest } from './request-checks.ts';

/**
 * Meta's side of Messenger marketing messages, in memory and without HTTP: Pages, people,
 * opt-in requests, tokens, sends and their rules (META_PLATFORM.md sections 2 to 5). Time comes
 * only from the injected clock; webhooks leave through `emit`.
 */

const DAY_MS = 24 * 3_600_000;
const OPT_IN_WINDOW_MS = DAY_MS;
const OPT_IN_REPEAT_MS = 7 * DAY_MS;
const FOLLOW_UP_WINDOW_MS = 2 * 60_000;
const FOLLOW_UP_MAX = 3;
const FOLLOW_UP_MAX_CHARS = 250;

/** Where legacy token sends still work after the 2026 switch-off (EU, JP, KR, AU, UK). */
export const LEGACY_COUNTRIES: readonly string[] = [
  ...['AT', 'BE', 'BG', 'CY', 'CZ', 'DE', 'DK', 'EE', 'ES', 'FI', 'FR', 'GR', 'HR', 'HU'],
  ...['IE', 'IT', 'LT', 'LU', 'LV', 'MT', 'NL', 'PL', 'PT', 'RO', 'SE', 'SI', 'SK'],
  ...['JP', 'KR', 'AU', 'GB'],
];

/** Rules of the simulated platform that a test may choose; defaults follow Meta as of 2026. */
export interface ModelBehaviour {
  /** Legacy rolling cooldown; default 48 h. */
  legacyCooldownMs?: number;
  /** Marketing Message API cooldown; default 12 h. */
  marketingCooldownMs?: number;
  /** `token_expiry_timestamp` in webhooks and token reads; default 'none' (tokens stopped expiring). */
  tokenExpiry?: TokenExpiryFormat;
  /** How far ahead the written expiry lies; default 365 days. Expiry is never enforced. */
  tokenLifetimeMs?: number;
  /** `STOP NOTIFICATIONS` (default, 'space') or `STOP_NOTIFICATIONS` ('underscore'). */
  stopStatusSpelling?: 'space' | 'underscore';
  /**
   * Make opt-in requests create tokens with the requested frequency, as before 2023: WEEKLY and
   * MONTHLY tokens then get calendar cooldowns and the webhook echoes the frequency. Default false.
   */
  honourOptInFrequency?: boolean;
  /** Meta's allowance of 3 free follow-ups within 2 minutes of an opt-in; default false (strict). */
  followUpMessages?: boolean;
  /** Default '551' (551/1545041). */
  blockedError?: BlockedError;
  /** Put `error_data.next_eligible_time` (seconds) in cooldown errors; undocumented, default false. */
  includeNextEligibleTime?: boolean;
  /** Clock time between an accepted opt-in request and the person's tap; default 0. */
  optInDelayMs?: number;
  marketingStatus?: {
    /** Clock time from the send to the delivery webhook, and from delivery to read; default 1000. */
    delayMs?: number;
    /** Chance that a delivered marketing message is read; default 0.5. */
    readProbability?: number;
    /**
     * Accept marketing sends to stopped tokens or blocking people and report the failure later as
     * `marketing_message_delivery_failed`, instead of refusing at once. Default false.
     */
    asyncFailures?: boolean;
  };
  /**
   * The 2026 split by region, when given: from `legacyOffFrom` (clock ms) legacy sends to people
   * outside `legacyCountries` are refused, and marketing sends to people inside are always refused
   * (error 3; Meta does not document the code). People without a country count as outside.
   */
  regionRules?: { legacyOffFrom: number; legacyCountries?: readonly string[] };
}

export interface MetaModelOptions extends ModelBehaviour {
  clock: Clock;
  /** Chance source for read receipts; default Math.random. */
  random?: () => number;
  /** Receives every webhook event the platform produces. */
  emit: (event: OutgoingEvent) => void;
}

/** A Page as registered with the simulator. */
export interface PageSetup {
  id: string;
  accessToken: string;
  /** IANA zone; calendar cooldowns of WEEKLY/MONTHLY tokens count there. Default 'UTC'. */
  timezone?: string;
  /** An ad account for the Marketing Message API, with its system-user token. */
  adAccountId?: string;
  systemUserToken?: string;
  /** Calls per second before rate-limit errors; default from the simulator's options. */
  ratePerSecond?: number;
}

export interface PersonSetup {
  pageId: string;
  /** Default: a fresh 16-digit PSID. */
  psid?: string;
  /** IANA zone written in opt-in webhooks; default: the zone the opt-in request names, if any. */
  timezone?: string;
  /** Whether the person taps the opt-in button; default true. */
  acceptsOptIn?: boolean;
  /** ISO 3166 alpha-2, for `regionRules`. */
  country?: string;
}

/** A token as it was before 2023 or otherwise set up directly, without an opt-in request. */
export interface TokenSeed {
  pageId: string;
  psid: string;
  topicId: string;
  title?: string;
  token?: string;
  frequency?: TokenFrequency;
  /** Default: the clock's now. */
  createdAt?: number;
  lastSentAt?: number;
  /** Also deliver the opt-in webhook (stamped `createdAt`), so the runtime learns the token. */
  announce?: boolean;
}

/** What the simulator knows about one token. */
export interface TokenView extends TokenFacts {
  stopped: boolean;
  lastSentAt?: number;
}

/** One message Meta accepted. */
export interface SentMessage {
  route: SendRoute | 'standard';
  pageId: string;
  psid: string;
  token?: string;
  topicId?: string;
  topicTitle?: string;
  message: Record<string, unknown>;
  /** Clock time of acceptance. */
  at: number;
  /** Meta's message id, or the marketing tracking id. */
  messageId: string;
  adAccountId?: string;
  campaignId?: string;
  /** A free follow-up right after the opt-in (did not count against the cooldown). */
  followUp?: boolean;
  /** False when the caller never got the answer (an injected timeout). */
  answered: boolean;
  /** Accepted by the new API but failed later (`asyncFailures`). */
  failed?: { code: number; subcode?: number };
}

export type ModelResult<T> =
  | { ok: true; value: T; sent?: SentMessage }
  | { ok: false; error: GraphErrorSpec };

/** Thrown by the control API for a setup that cannot be (unknown Page, invalid zone, ...). */
export class SimulatorSetupError extends Error {
  override name = 'SimulatorSetupError';
}

interface PageState {
  id: string;
  accessToken: string;
  timezone: string;
  adAccountId?: string;
  ratePerSecond?: number;
}

interface PersonState {
  pageId: string;
  psid: string;
  timezone?: string;
  acceptsOptIn: boolean;
  country?: string;
  lastMessageAt?: number;
  blocked: boolean;
}

interface TokenState extends TokenView {
  followUps: number;
}

interface CampaignState {
  id: string;
  adAccountId: string;
  pageId: string;
  name: string;
}

/** The model behind the simulator's HTTP surface; everything is synchronous. */
export type MetaModel = ReturnType<typeof createMetaModel>;

/** Creates an empty platform. */
export function createMetaModel(options: MetaModelOptions) {
  const { clock, emit } = options;
  const random = options.random ?? Math.random;
  const legacyCooldownMs = options.legacyCooldownMs ?? LEGACY_COOLDOWN_MS;
  const marketingCooldownMs = options.marketingCooldownMs ?? MARKETING_COOLDOWN_MS;
  const expiryFormat = options.tokenExpiry ?? 'none';
  const lifetimeMs = options.tokenLifetimeMs ?? 365 * DAY_MS;
  const blockedVariant = options.blockedError ?? '551';
  const statusDelayMs = options.marketingStatus?.delayMs ?? 1000;
  const readProbability = options.marketingStatus?.readProbability ?? 0.5;
  const asyncFailures = options.marketingStatus?.asyncFailures ?? false;
  const legacyCountries = new Set(options.regionRules?.legacyCountries ?? LEGACY_COUNTRIES);

  const pages = new Map<string, PageState>();
  const adAccounts = new Map<string, { id: string; systemUserToken: string }>();
  const campaigns = new Map<string, CampaignState>();
  const people = new Map<string, PersonState>();
  /** People per Page: Meta's daily call budget is 200 per engaged user. */
  const peopleCount = new Map<string, number>();
  const tokens = new Map<string, TokenState>();
  const tokenByTopic = new Map<string, string>();
  const optInRequests = new Map<string, number>();
  const sentLog: SentMessage[] = [];

  const personKey = (pageId: string, psid: string) => `${pageId}\u0000${psid}`;
  const topicKey = (pageId: string, psid: string, topicId: string) =>
    `${pageId}\u0000${psid}\u0000${topicId}`;

  function page(pageId: string): PageState {
    const found = pages.get(pageId);
    if (!found) throw new SimulatorSetupError(`no Page '${pageId}' in the simulator`);
    return found;
  }

  function person(pageId: string, psid: string): PersonState {
    const found = people.get(personKey(pageId, psid));
    if (!found) throw new SimulatorSetupError(`no person '${psid}' on Page '${pageId}'`);
    return found;
  }

  function tokenFor(pageId: string, psid: string, topicId: string): TokenState {
    const value = tokenByTopic.get(topicKey(pageId, psid, topicId));
    const found = value === undefined ? undefined : tokens.get(value);
    if (!found) {
      throw new SimulatorSetupError(
        `person '${psid}' on Page '${pageId}' has no token for '${topicId}'`,
      );
    }
    return found;
  }

  function knownAccessToken(accessToken: string | undefined): boolean {
    if (accessToken === undefined || accessToken === '') return false;
    for (const p of pages.values()) if (p.accessToken === accessToken) return true;
    for (const a of adAccounts.values()) if (a.systemUserToken === accessToken) return true;
    return false;
  }

  function view(token: TokenState): TokenView {
    const { followUps: _followUps, ...rest } = token;
    return { ...rest };
  }

  function uniquePsid(pageId: string): string {
    for (;;) {
      const psid = numericId(16);
      if (!people.has(personKey(pageId, psid))) return psid;
    }
  }

  function checkZone(zone: string, what: string) {
    if (!IANAZone.isValidZone(zone)) {
      throw new SimulatorSetupError(`${what} '${zone}' is not an IANA time zone`);
    }
  }

  function textLength(message: Record<string, unknown>): number {
    return typeof message.text === 'string' ? message.text.length : JSON.stringify(message).length;
  }

  function record(sent: Omit<SentMessage, 'answered'>): SentMessage {
    const entry: SentMessage = { ...sent, answered: true };
    sentLog.push(entry);
    return entry;
  }

  /** Why a token cannot be used now, ignoring cooldown; undefined when it can. */
  function refusalFor(token: TokenState, route: SendRoute): GraphErrorSpec | undefined {
    const who = person(token.pageId, token.psid);
    if (who.blocked) return graphErrors.blocked(blockedVariant);
    if (token.stopped) return graphErrors.stopped();
    const rules = options.regionRules;
    if (rules) {
      const inLegacyRegion = who.country !== undefined && legacyCountries.has(who.country);
      if (route === 'marketing_messages' && inLegacyRegion) return graphErrors.regionNotServed();
      if (route === 'send_api' && !inLegacyRegion && clock.now() >= rules.legacyOffFrom) {
        return graphErrors.regionNotServed();
      }
    }
    return undefined;
  }

  /** Whether this send is one of the free follow-ups right after the opt-in. */
  function isFollowUp(token: TokenState, message: Record<string, unknown>, now: number): boolean {
    if (!options.followUpMessages) return false;
    if (now - token.optedInAt > FOLLOW_UP_WINDOW_MS || token.followUps >= FOLLOW_UP_MAX)
      return false;
    return token.followUps === 0 || textLength(message) <= FOLLOW_UP_MAX_CHARS;
  }

  function cooldownUntil(token: TokenState, route: SendRoute): number | undefined {
    return nextEligibleAt({
      route,
      ...(token.frequency !== undefined && { frequency: token.frequency }),
      ...(token.lastSentAt !== undefined && { lastSentAt: token.lastSentAt }),
      pageZone: page(token.pageId).timezone,
      legacyCooldownMs,
      marketingCooldownMs,
    });
  }

  function node(token: TokenState): TokenNode {
    return tokenNode(token, cooldownUntil(token, 'send_api') ?? token.createdAt, expiryFormat);
  }

  function createToken(seed: {
    pageId: string;
    psid: string;
    topicId: string;
    title: string;
    at: number;
    token?: string;
    frequency?: TokenFrequency;
    timezone?: string;
  }): TokenState {
    const existingValue = tokenByTopic.get(topicKey(seed.pageId, seed.psid, seed.topicId));
    const existing = existingValue === undefined ? undefined : tokens.get(existingValue);
    if (existing) {
      // A repeat opt-in on the same topic refreshes the token it already has (unsure at Meta).
      existing.userTokenStatus = 'REFRESHED';
      existing.title = seed.title;
      existing.optedInAt = seed.at;
      existing.stopped = false;
      existing.followUps = 0;
      if (seed.timezone !== undefined) existing.timezone = seed.timezone;
      if (expiryFormat !== 'none') existing.expiresAt = seed.at + lifetimeMs;
      return existing;
    }
    const value = seed.token ?? newToken();
    if (tokens.has(value)) throw new SimulatorSetupError(`token '${value}' exists already`);
    const token: TokenState = {
      token: value,
      pageId: seed.pageId,
      psid: seed.psid,
      topicId: seed.topicId,
      title: seed.title,
      createdAt: seed.at,
      optedInAt: seed.at,
      ...(seed.frequency !== undefined && { frequency: seed.frequency }),
      ...(expiryFormat !== 'none' && { expiresAt: seed.at + lifetimeMs }),
      userTokenStatus: 'NOT_REFRESHED',
      ...(seed.timezone !== undefined && { timezone: seed.timezone }),
      stopped: false,
      followUps: 0,
    };
    tokens.set(value, token);
    tokenByTopic.set(topicKey(seed.pageId, seed.psid, seed.topicId), value);
    return token;
  }

  function setStopped(pageId: string, psid: string, topicId: string, stopped: boolean) {
    const token = tokenFor(pageId, psid, topicId);
    token.stopped = stopped;
    const spelling = options.stopStatusSpelling ?? 'space';
    emit(statusEvent(token, stopped ? 'STOP' : 'RESUME', clock.now(), spelling));
  }

  return {
    /** Registers a Page (and its ad account, if given). */
    addPage(setup: PageSetup): void {
      const timezone = setup.timezone ?? 'UTC';
      checkZone(timezone, `Page ${setup.id} zone`);
      if (setup.adAccountId !== undefined) {
        if (setup.systemUserToken === undefined) {
          throw new SimulatorSetupError(`Page ${setup.id}: an ad account needs a systemUserToken`);
        }
        const account = adAccounts.get(setup.adAccountId);
        if (account && account.systemUserToken !== setup.systemUserToken) {
          throw new SimulatorSetupError(
            `ad account ${setup.adAccountId} is registered with another system-user token`,
          );
        }
        adAccounts.set(setup.adAccountId, {
          id: setup.adAccountId,
          systemUserToken: setup.systemUserToken,
        });
      }
      pages.set(setup.id, {
        id: setup.id,
        accessToken: setup.accessToken,
        timezone,
        ...(setup.adAccountId !== undefined && { adAccountId: setup.adAccountId }),
        ...(setup.ratePerSecond !== undefined && { ratePerSecond: setup.ratePerSecond }),
      });
    },

    /** People who can talk to the Page: the simulator counts them all as engaged users. */
    engagedUsers(pageId: string): number {
      return peopleCount.get(pageId) ?? 0;
    },

    /** The calls per second configured for a Page, if it has its own. */
    pageRate(pageId: string): number | undefined {
      return pages.get(pageId)?.ratePerSecond;
    },

    /** Creates a campaign in an ad account for one of its Pages; returns its id. */
    addCampaign(input: {
      adAccountId: string;
      pageId: string;
      name?: string;
      id?: string;
    }): string {
      if (!adAccounts.has(input.adAccountId)) {
        throw new SimulatorSetupError(`no ad account '${input.adAccountId}' in the simulator`);
      }
      page(input.pageId);
      const id = input.id ?? numericId(15);
      campaigns.set(id, {
        id,
        adAccountId: input.adAccountId,
        pageId: input.pageId,
        name: input.name ?? `Campaign ${id}`,
      });
      return id;
    },

    /** Adds a person who can talk to a Page; returns their PSID. */
    addPerson(setup: PersonSetup): { pageId: string; psid: string } {
      page(setup.pageId);
      if (setup.timezone !== undefined) checkZone(setup.timezone, 'person zone');
      const psid = setup.psid ?? uniquePsid(setup.pageId);
      if (!people.has(personKey(setup.pageId, psid))) {
        peopleCount.set(setup.pageId, (peopleCount.get(setup.pageId) ?? 0) + 1);
      }
      people.set(personKey(setup.pageId, psid), {
        pageId: setup.pageId,
        psid,
        ...(setup.timezone !== undefined && { timezone: setup.timezone }),
        acceptsOptIn: setup.acceptsOptIn ?? true,
        ...(setup.country !== undefined && { country: setup.country.toUpperCase() }),
        blocked: false,
      });
      return { pageId: setup.pageId, psid };
    },

    /** Changes how a person behaves from now on. */
    updatePerson(
      pageId: string,
      psid: string,
      patch: { acceptsOptIn?: boolean; timezone?: string; country?: string },
    ): void {
      const who = person(pageId, psid);
      if (patch.acceptsOptIn !== undefined) who.acceptsOptIn = patch.acceptsOptIn;
      if (patch.timezone !== undefined) {
        checkZone(patch.timezone, 'person zone');
        who.timezone = patch.timezone;
      }
      if (patch.country !== undefined) who.country = patch.country.toUpperCase();
    },

    /** Creates a token directly (a pre-2023 WEEKLY token, say), without an opt-in request. */
    seedToken(seed: TokenSeed): TokenView {
      page(seed.pageId);
      const who = person(seed.pageId, seed.psid);
      const token = createToken({
        pageId: seed.pageId,
        psid: seed.psid,
        topicId: seed.topicId,
        title: seed.title ?? seed.topicId,
        at: seed.createdAt ?? clock.now(),
        ...(seed.token !== undefined && { token: seed.token }),
        ...(seed.frequency !== undefined && { frequency: seed.frequency }),
        ...(who.timezone !== undefined && { timezone: who.timezone }),
      });
      if (seed.lastSentAt !== undefined) token.lastSentAt = seed.lastSentAt;
      if (seed.announce) emit(optInEvent(token, expiryFormat));
      return view(token);
    },

    /** The person messages the Page: opens the 24 h window and sends a `messages` webhook. */
    personWrites(pageId: string, psid: string, text = 'Hello'): void {
      const who = person(pageId, psid);
      const now = clock.now();
      who.lastMessageAt = now;
      emit(inboundEvent(pageId, psid, now, text));
    },

    /** The person taps "stop" on a topic: sends the webhook; sends answer 10/1893015. */
    personStops(pageId: string, psid: string, topicId: string): void {
      setStopped(pageId, psid, topicId, true);
    },

    /** The person resumes a topic they stopped. */
    personResumes(pageId: string, psid: string, topicId: string): void {
      setStopped(pageId, psid, topicId, false);
    },

    /** The person blocks the Page: every message to them is refused. No webhook. */
    personBlocks(pageId: string, psid: string): void {
      person(pageId, psid).blocked = true;
    },

    personUnblocks(pageId: string, psid: string): void {
      person(pageId, psid).blocked = false;
    },

    /** Checks a Page access token: 190 when it is nobody's or another Page's, 100/33 for no Page. */
    authorisePage(pageId: string, accessToken: string | undefined, method: string) {
      if (!knownAccessToken(accessToken)) return graphErrors.invalidAccessToken();
      const found = pages.get(pageId);
      if (!found) return graphErrors.unknownObject(pageId, method);
      if (found.accessToken !== accessToken) return graphErrors.invalidAccessToken();
      return undefined;
    },

    /** Checks a system-user token against an ad account (id without `act_`). */
    authoriseAdAccount(adAccountId: string, accessToken: string | undefined, method: string) {
      if (!knownAccessToken(accessToken)) return graphErrors.invalidAccessToken();
      const found = adAccounts.get(adAccountId);
      if (!found) return graphErrors.unknownObject(`act_${adAccountId}`, method);
      if (found.systemUserToken !== accessToken) return graphErrors.invalidAccessToken();
      return undefined;
    },

    /** Checks the access token of a token read: it must be the token's Page's. */
    authoriseTokenRead(token: string, accessToken: string | undefined) {
      if (!knownAccessToken(accessToken)) return graphErrors.invalidAccessToken();
      const found = tokens.get(token);
      if (!found) return graphErrors.unknownObject(`notification_messages_${token}`, 'GET');
      if (page(found.pageId).accessToken !== accessToken) return graphErrors.invalidAccessToken();
      return undefined;
    },

    /** The Page a campaign sends for, when the campaign exists in that ad account. */
    campaignPage(adAccountId: string, campaignId: string): string | undefined {
      const campaign = campaigns.get(campaignId);
      return campaign?.adAccountId === adAccountId ? campaign.pageId : undefined;
    },

    /** The Page a token belongs to. */
    tokenPage(token: string): string | undefined {
      return tokens.get(token)?.pageId;
    },

    /** `POST act_<id>/message_campaign`. */
    createCampaign(
      adAccountId: string,
      input: { name?: unknown; pageId?: unknown },
    ): ModelResult<{ id: string }> {
      if (typeof input.name !== 'string' || input.name === '') {
        return { ok: false, error: graphErrors.invalidParameter('param name must be non-empty') };
      }
      if (typeof input.pageId !== 'string' || !pages.has(input.pageId)) {
        return {
          ok: false,
          error: graphErrors.invalidParameter('param page_id must be a Page of this business'),
        };
      }
      const id = numericId(15);
      campaigns.set(id, { id, adAccountId, pageId: input.pageId, name: input.name });
      return { ok: true, value: { id } };
    },

    /** The opt-in template: allowed inside the 24 h window, once per title per person per 7 days. */
    requestOptIn(
      pageId: string,
      request: OptInRequest,
    ): ModelResult<{ recipient_id: string; message_id: string }> {
      const checked = checkOptInTemplate(request);
      if (!checked.ok) return checked;
      const { title, payload, timezone, frequency } = checked.template;
      const who = people.get(personKey(pageId, request.psid));
      if (!who) return { ok: false, error: graphErrors.noMatchingUser() };
      if (who.blocked) return { ok: false, error: graphErrors.blocked(blockedVariant) };
      const now = clock.now();
      if (who.lastMessageAt === undefined || now - who.lastMessageAt > OPT_IN_WINDOW_MS) {
        return { ok: false, error: graphErrors.outsideWindow(2534022) };
      }
      const requestKey = `${personKey(pageId, who.psid)}\u0000${title}`;
      const previous = optInRequests.get(requestKey);
      if (previous !== undefined && now - previous < OPT_IN_REPEAT_MS) {
        return { ok: false, error: graphErrors.optInLimit() };
      }
      optInRequests.set(requestKey, now);
      if (who.acceptsOptIn) {
        const zone = who.timezone ?? timezone;
        const token = createToken({
          pageId,
          psid: who.psid,
          topicId: payload,
          title,
          at: now + (options.optInDelayMs ?? 0),
          ...(options.honourOptInFrequency && frequency !== undefined && { frequency }),
          ...(zone !== undefined && { timezone: zone }),
        });
        emit(optInEvent(token, expiryFormat));
      }
      return {
        ok: true,
        value: { recipient_id: who.psid, message_id: newMessageId() },
      };
    },

    /** A normal message to a PSID: only inside the 24 h window. */
    sendToPerson(
      pageId: string,
      psid: string,
      message: unknown,
    ): ModelResult<{ recipient_id: string; message_id: string }> {
      const body = checkMessage(message);
      if (isGraphError(body)) return { ok: false, error: body };
      const who = people.get(personKey(pageId, psid));
      if (!who) return { ok: false, error: graphErrors.noMatchingUser() };
      if (who.blocked) return { ok: false, error: graphErrors.blocked(blockedVariant) };
      const now = clock.now();
      if (who.lastMessageAt === undefined || now - who.lastMessageAt > OPT_IN_WINDOW_MS) {
        return { ok: false, error: graphErrors.outsideWindow(2018278) };
      }
      const messageId = newMessageId();
      const sent = record({
        route: 'standard',
        pageId,
        psid,
        message: body,
        at: now,
        messageId,
      });
      return { ok: true, value: { recipient_id: psid, message_id: messageId }, sent };
    },

    /** Legacy Send API with a token: 48 h rolling, or calendar week/month for old tokens. */
    sendWithToken(
      pageId: string,
      value: string,
      message: unknown,
    ): ModelResult<{ recipient_id: string; message_id: string }> {
      const body = checkMessage(message);
      if (isGraphError(body)) return { ok: false, error: body };
      const token = tokens.get(value);
      if (!token || token.pageId !== pageId)
        return { ok: false, error: graphErrors.invalidToken() };
      const refusal = refusalFor(token, 'send_api');
      if (refusal) return { ok: false, error: refusal };
      const now = clock.now();
      const followUp = isFollowUp(token, body, now);
      if (!followUp) {
        const next = cooldownUntil(token, 'send_api');
        if (next !== undefined && now < next) {
          return {
            ok: false,
            error: graphErrors.legacyCooldown(options.includeNextEligibleTime ? next : undefined),
          };
        }
        token.lastSentAt = now;
      } else {
        token.followUps += 1;
      }
      const messageId = newMessageId();
      const sent = record({
        route: 'send_api',
        pageId,
        psid: token.psid,
        token: token.token,
        topicId: token.topicId,
        topicTitle: token.title,
        message: body,
        at: now,
        messageId,
        ...(followUp && { followUp }),
      });
      return { ok: true, value: { recipient_id: token.psid, message_id: messageId }, sent };
    },

    /** Marketing Message API: 12 h per token; status webhooks follow the answer. */
    sendMarketing(
      adAccountId: string,
      input: { campaignId: unknown; token: unknown; message: unknown },
    ): ModelResult<{ success: true; marketing_message_tracking_id: string }> {
      if (typeof input.campaignId !== 'string' || input.campaignId === '') {
        return {
          ok: false,
          error: graphErrors.invalidParameter('param message_id must be a campaign id'),
        };
      }
      const campaign = campaigns.get(input.campaignId);
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
      const token = tokens.get(input.token);
      if (!token || token.pageId !== campaign.pageId) {
        return { ok: false, error: graphErrors.invalidToken() };
      }
      const refusal = refusalFor(token, 'marketing_messages');
      const lateFailure = refusal !== undefined && asyncFailures && refusal.reason !== 'region';
      if (refusal && !lateFailure) return { ok: false, error: refusal };
      const now = clock.now();
      const followUp = !lateFailure && isFollowUp(token, body, now);
      if (!lateFailure && !followUp) {
        const next = cooldownUntil(token, 'marketing_messages');
        if (next !== undefined && now < next) {
          return {
            ok: false,
            error: graphErrors.marketingCooldown(
              options.includeNextEligibleTime ? next : undefined,
            ),
          };
        }
        token.lastSentAt = now;
      }
      if (followUp) token.followUps += 1;
      const trackingId = numericId(16);
      const sent = record({
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
        ...(refusal &&
          lateFailure && {
            failed: {
              code: refusal.code,
              ...(refusal.subcode !== undefined && { subcode: refusal.subcode }),
            },
          }),
      });
      const ids = { marketing_message_tracking_id: trackingId, subscription_token: token.token };
      const deliveredAt = now + statusDelayMs;
      if (refusal && lateFailure) {
        emit(
          marketingEvent(token.pageId, 'marketing_message_delivery_failed', deliveredAt, {
            ...ids,
            error: {
              code: refusal.code,
              ...(refusal.subcode !== undefined && { error_subcode: refusal.subcode }),
              message: refusal.message,
            },
          }),
        );
      } else {
        emit(marketingEvent(token.pageId, 'marketing_message_deliveries', deliveredAt, ids));
        if (random() < readProbability) {
          emit(
            marketingEvent(
              token.pageId,
              'marketing_message_reads',
              deliveredAt + statusDelayMs,
              ids,
            ),
          );
        }
      }
      return {
        ok: true,
        value: { success: true, marketing_message_tracking_id: trackingId },
        sent,
      };
    },

    /** `GET /{pageId}/notification_message_tokens`: the Page's tokens not stopped, oldest first. */
    listTokens(
      pageId: string,
      query: { limit?: number; after?: string },
    ): ModelResult<{ data: TokenNode[]; after?: string; hasMore: boolean }> {
      const limit = query.limit ?? 25;
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
        return {
          ok: false,
          error: graphErrors.invalidParameter('param limit must be between 1 and 1000'),
        };
      }
      const all = [...tokens.values()].filter((t) => t.pageId === pageId && !t.stopped);
      let start = 0;
      if (query.after !== undefined) {
        const afterToken = Buffer.from(query.after, 'base64url').toString('utf8');
        const index = all.findIndex((t) => t.token === afterToken);
        if (index < 0)
          return {
            ok: false,
            error: graphErrors.invalidParameter('param after is not a valid cursor'),
          };
        start = index + 1;
      }
      const slice = all.slice(start, start + limit);
      const last = slice.at(-1);
      return {
        ok: true,
        value: {
          data: slice.map(node),
          ...(last && { after: Buffer.from(last.token, 'utf8').toString('base64url') }),
          hasMore: start + limit < all.length,
        },
      };
    },

    /** `GET /notification_messages_<TOKEN>`: one token, stopped or not. */
    readToken(value: string): ModelResult<TokenNode & Record<string, unknown>> {
      const token = tokens.get(value);
      if (!token)
        return {
          ok: false,
          error: graphErrors.unknownObject(`notification_messages_${value}`, 'GET'),
        };
      return {
        ok: true,
        value: {
          id: `notification_messages_${token.token}`,
          ...node(token),
          page_id: token.pageId,
          notification_messages_status: token.stopped ? 'STOP NOTIFICATIONS' : 'ACTIVE',
        },
      };
    },

    /** Every token, optionally of one Page. */
    tokens(pageId?: string): TokenView[] {
      return [...tokens.values()]
        .filter((t) => pageId === undefined || t.pageId === pageId)
        .map(view);
    },

    /** The token a person holds for a topic, if any. */
    tokenOf(pageId: string, psid: string, topicId: string): TokenView | undefined {
      const value = tokenByTopic.get(topicKey(pageId, psid, topicId));
      const token = value === undefined ? undefined : tokens.get(value);
      return token && view(token);
    },

    /** Every accepted message, oldest first (copies). */
    sent(): SentMessage[] {
      return sentLog.map((entry) => ({ ...entry }));
    },
  };
}
