import { IANAZone } from 'luxon';
import {
  LEGACY_COOLDOWN_MS,
  MARKETING_COOLDOWN_MS,
  nextEligibleAt,
  type SendRoute,
  type TokenFrequency,
} from './cooldown.ts';
import type { BlockedError, MarketingCooldownCode } from './graph-errors.ts';
import { newToken, numericId } from './ids.ts';
import {
  type MarketingStatusShape,
  type TokenExpiryFormat,
  type TokenNode,
  tokenNode,
} from './meta-events.ts';
import {
  type MetaModelOptions,
  type SentMessage,
  SimulatorSetupError,
  type TokenView,
} from './model-types.ts';
import { createOrganicTraffic, type OrganicTraffic } from './organic-traffic.ts';
import { createPageCeiling, type PageCeiling } from './page-ceiling.ts';
import { createRuleRefusals, type RuleRefusalCounter } from './rule-refusals.ts';

/**
 * The one in-memory state of the simulated platform, and the lookups every part of the model
 * shares: Pages, people, tokens and their cooldowns.
 */

export const DAY_MS = 24 * 3_600_000;

/** Where legacy token sends still work after the 2026 switch-off (EU, JP, KR, AU, UK). */
export const LEGACY_COUNTRIES: readonly string[] = [
  ...['AT', 'BE', 'BG', 'CY', 'CZ', 'DE', 'DK', 'EE', 'ES', 'FI', 'FR', 'GR', 'HR', 'HU'],
  ...['IE', 'IT', 'LT', 'LU', 'LV', 'MT', 'NL', 'PL', 'PT', 'RO', 'SE', 'SI', 'SK'],
  ...['JP', 'KR', 'AU', 'GB'],
];

/** A Page as the platform keeps it. */
export interface PageState {
  id: string;
  accessToken: string;
  timezone: string;
  adAccountId?: string;
  /** On `marketing_messages` a person holds one token for every topic. */
  route: SendRoute;
  ratePerSecond?: number;
  /** Permissions the Page's access token carries (`debug_token` scopes). */
  permissions: Set<string>;
  /** Webhook fields the app is subscribed to on the Page (`subscribed_apps`). */
  subscribedFields: Set<string>;
}

/** An ad account of the Marketing Message API. */
export interface AdAccountState {
  id: string;
  systemUserToken: string;
  /** Graph's `account_status`: 1 active, 2 disabled, 3 unsettled, 9 in grace period, ... */
  accountStatus: number;
}

/** A person on one Page. */
export interface PersonState {
  pageId: string;
  psid: string;
  timezone?: string;
  acceptsOptIn: boolean;
  country?: string;
  lastMessageAt?: number;
  blocked: boolean;
  /** Opted out of the Page's marketing messages (no webhook on the MM API): 2300034. */
  marketingOptOut?: boolean;
  /** Whether a send was refused since the opt-out (the first refusal is counted apart). */
  optOutAnswered?: boolean;
}

/** A token, with the follow-ups it used since its opt-in. */
export interface TokenState extends TokenView {
  followUps: number;
}

/** A campaign of the Marketing Message API. */
export interface CampaignState {
  id: string;
  adAccountId: string;
  pageId: string;
  name: string;
  /** `ACTIVE` or `PAUSED`; Graph answers it as `status` and `effective_status`. */
  status: 'ACTIVE' | 'PAUSED';
  /** Clock time of creation: sends need about 60 minutes of warm-up after it. */
  createdAt: number;
}

/** The simulated app: whose webhooks the Pages deliver and whose tokens they hold. */
export const SIMULATED_APP = { id: '100000000000001', name: 'Recurrent (simulated)' } as const;

/** The permissions a Page token gets unless a test revokes some. */
export const DEFAULT_PERMISSIONS: readonly string[] = [
  'pages_messaging',
  'pages_manage_metadata',
  'ads_management',
  'paid_marketing_messages',
];

/** The webhook fields the app is subscribed to on a new Page: every field Recurrent reads. */
export const DEFAULT_SUBSCRIBED_FIELDS: readonly string[] = [
  'messages',
  'messaging_optins',
  'marketing_message_deliveries',
  'marketing_message_reads',
  'marketing_message_clicks',
  'marketing_message_delivery_failed',
];

/** Everything the platform knows, and the rules it was created with (defaults applied). */
export interface ModelState {
  options: MetaModelOptions;
  clock: MetaModelOptions['clock'];
  emit: MetaModelOptions['emit'];
  random: () => number;
  legacyCooldownMs: number;
  marketingCooldownMs: number;
  marketingCooldownCode: MarketingCooldownCode;
  tokenPerPerson: boolean;
  /** Organic conversations, when frequency caps apply. */
  traffic?: OrganicTraffic;
  ceiling?: PageCeiling;
  refusals: RuleRefusalCounter;
  /** Accepted MM sends per person (`personKey`), for the frequency caps; a week is kept. */
  marketingSends: Map<string, number[]>;
  /** The token a person holds on a Page of the MM route (`personKey`). */
  personTokens: Map<string, string>;
  expiryFormat: TokenExpiryFormat;
  lifetimeMs: number;
  blockedVariant: BlockedError;
  statusDelayMs: number;
  readProbability: number;
  clickProbability: number;
  echoes: boolean;
  statusShape: MarketingStatusShape;
  asyncFailures: boolean;
  legacyCountries: ReadonlySet<string>;
  pages: Map<string, PageState>;
  adAccounts: Map<string, AdAccountState>;
  campaigns: Map<string, CampaignState>;
  people: Map<string, PersonState>;
  /** People per Page: Meta's daily call budget is 200 per engaged user. */
  peopleCount: Map<string, number>;
  tokens: Map<string, TokenState>;
  tokenByTopic: Map<string, string>;
  optInRequests: Map<string, number>;
  sentLog: SentMessage[];
}

/** An empty platform following `options`. */
export function createModelState(options: MetaModelOptions): ModelState {
  return {
    options,
    clock: options.clock,
    emit: options.emit,
    random: options.random ?? Math.random,
    legacyCooldownMs: options.legacyCooldownMs ?? LEGACY_COOLDOWN_MS,
    marketingCooldownMs: options.marketingCooldownMs ?? MARKETING_COOLDOWN_MS,
    marketingCooldownCode: options.marketingCooldownCode ?? 2300035,
    tokenPerPerson: options.tokenPerPerson ?? true,
    ...(options.organicTraffic && { traffic: createOrganicTraffic(options.organicTraffic) }),
    ...(options.pageCeiling !== false && {
      ceiling: createPageCeiling(options.pageCeiling ?? {}, options.realNow ?? options.clock.now),
    }),
    refusals: createRuleRefusals(),
    marketingSends: new Map(),
    personTokens: new Map(),
    expiryFormat: options.tokenExpiry ?? 'none',
    lifetimeMs: options.tokenLifetimeMs ?? 365 * DAY_MS,
    blockedVariant: options.blockedError ?? '551',
    statusDelayMs: options.marketingStatus?.delayMs ?? 1000,
    readProbability: options.marketingStatus?.readProbability ?? 0.5,
    clickProbability: options.marketingStatus?.clickProbability ?? 0,
    echoes: options.marketingStatus?.echoes ?? false,
    statusShape: options.marketingStatus?.shape ?? 'envelope',
    asyncFailures: options.marketingStatus?.asyncFailures ?? false,
    legacyCountries: new Set(options.regionRules?.legacyCountries ?? LEGACY_COUNTRIES),
    pages: new Map(),
    adAccounts: new Map(),
    campaigns: new Map(),
    people: new Map(),
    peopleCount: new Map(),
    tokens: new Map(),
    tokenByTopic: new Map(),
    optInRequests: new Map(),
    sentLog: [],
  };
}

export const personKey = (pageId: string, psid: string) => `${pageId}\u0000${psid}`;
export const topicKey = (pageId: string, psid: string, topicId: string) =>
  `${pageId}\u0000${psid}\u0000${topicId}`;

/** The Page, or a setup error when the simulator does not know it. */
export function pageOf(state: ModelState, pageId: string): PageState {
  const found = state.pages.get(pageId);
  if (!found) throw new SimulatorSetupError(`no Page '${pageId}' in the simulator`);
  return found;
}

/** The person, or a setup error when the Page has no such person. */
export function personOf(state: ModelState, pageId: string, psid: string): PersonState {
  const found = state.people.get(personKey(pageId, psid));
  if (!found) throw new SimulatorSetupError(`no person '${psid}' on Page '${pageId}'`);
  return found;
}

/** The token a person holds for a topic, or a setup error. */
export function tokenFor(
  state: ModelState,
  pageId: string,
  psid: string,
  topicId: string,
): TokenState {
  const value = state.tokenByTopic.get(topicKey(pageId, psid, topicId));
  const found = value === undefined ? undefined : state.tokens.get(value);
  if (!found) {
    throw new SimulatorSetupError(
      `person '${psid}' on Page '${pageId}' has no token for '${topicId}'`,
    );
  }
  return found;
}

/** Whether an access token is any Page's or any ad account's. */
export function knownAccessToken(state: ModelState, accessToken: string | undefined): boolean {
  if (accessToken === undefined || accessToken === '') return false;
  for (const p of state.pages.values()) if (p.accessToken === accessToken) return true;
  for (const a of state.adAccounts.values()) if (a.systemUserToken === accessToken) return true;
  return false;
}

/** What a test may see of a token (a copy, without the follow-up count). */
export function view(token: TokenState): TokenView {
  const { followUps: _followUps, ...rest } = token;
  return { ...rest };
}

/** A PSID nobody on the Page has yet. */
export function uniquePsid(state: ModelState, pageId: string): string {
  for (;;) {
    const psid = numericId(16);
    if (!state.people.has(personKey(pageId, psid))) return psid;
  }
}

/** Refuses a zone luxon does not know. */
export function checkZone(zone: string, what: string) {
  if (!IANAZone.isValidZone(zone)) {
    throw new SimulatorSetupError(`${what} '${zone}' is not an IANA time zone`);
  }
}

/** When the token may next be used on `route`; undefined when it may now. */
export function cooldownUntil(
  state: ModelState,
  token: TokenState,
  route: SendRoute,
): number | undefined {
  return nextEligibleAt({
    route,
    ...(token.frequency !== undefined && { frequency: token.frequency }),
    ...(token.lastSentAt !== undefined && { lastSentAt: token.lastSentAt }),
    pageZone: pageOf(state, token.pageId).timezone,
    legacyCooldownMs: state.legacyCooldownMs,
    marketingCooldownMs: state.marketingCooldownMs,
  });
}

/** The token as Graph's token reads answer it. */
export function nodeOf(state: ModelState, token: TokenState): TokenNode {
  return tokenNode(
    token,
    cooldownUntil(state, token, 'send_api') ?? token.createdAt,
    state.expiryFormat,
  );
}

/** Issues a token, or refreshes the one the person already holds for the topic. */
export function createToken(
  state: ModelState,
  seed: {
    pageId: string;
    psid: string;
    topicId: string;
    title: string;
    at: number;
    token?: string;
    frequency?: TokenFrequency;
    timezone?: string;
  },
): TokenState {
  const { expiryFormat, lifetimeMs, tokens, tokenByTopic } = state;
  const perPerson = seed.token === undefined && holdsOneToken(state, seed.pageId);
  const existingValue =
    tokenByTopic.get(topicKey(seed.pageId, seed.psid, seed.topicId)) ??
    (perPerson ? state.personTokens.get(personKey(seed.pageId, seed.psid)) : undefined);
  const existing = existingValue === undefined ? undefined : tokens.get(existingValue);
  if (existing) {
    tokenByTopic.set(topicKey(seed.pageId, seed.psid, seed.topicId), existing.token);
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
  if (perPerson) state.personTokens.set(personKey(seed.pageId, seed.psid), value);
  return token;
}

/** Whether a person holds one token for all the Page's topics (the MM route, 4.1). */
function holdsOneToken(state: ModelState, pageId: string): boolean {
  return state.tokenPerPerson && state.pages.get(pageId)?.route === 'marketing_messages';
}
