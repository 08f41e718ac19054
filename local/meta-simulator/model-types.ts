import type { Clock } from '#lib/clock.ts';
import type { SendRoute, TokenFrequency } from './cooldown.ts';
import type { FrequencyCapRules } from './frequency-caps.ts';
import type { BlockedError, GraphErrorSpec, MarketingCooldownCode } from './graph-errors.ts';
import type { MarketingStatusShape, TokenExpiryFormat, TokenFacts } from './meta-events.ts';
import type { OrganicTrafficOptions } from './organic-traffic.ts';
import type { PageCeilingOptions } from './page-ceiling.ts';
import type { OutgoingEvent } from './webhook-delivery.ts';

/** The vocabulary of the simulated platform: what a test sets up, chooses and reads back. */

/** Rules of the simulated platform that a test may choose; defaults follow Meta as of 2026. */
export interface ModelBehaviour {
  /** Legacy rolling cooldown; default 48 h. */
  legacyCooldownMs?: number;
  /** Marketing Message API cooldown; default 12 h. */
  marketingCooldownMs?: number;
  /** The code of an early MM send: 2300035 (default, Meta's) or 2300052 (the simulator's old answer). */
  marketingCooldownCode?: MarketingCooldownCode;
  /**
   * One token per person and Page on the MM route (META_PLATFORM.md 4.1): a person's opt-in to a
   * second topic gets the token they hold. Default true; false gives a token per topic.
   */
  tokenPerPerson?: boolean;
  /**
   * People's organic conversations; when given, Meta's frequency caps apply to MM sends
   * (`frequencyCaps` tunes them). Default none: no caps.
   */
  organicTraffic?: OrganicTrafficOptions;
  frequencyCaps?: FrequencyCapRules;
  /** Keep every accepted message for `sent()`; default true (a long benchmark turns it off). */
  keepSentLog?: boolean;
  /** The per-Page ceiling on token sends; default 40 a second, then a 60 s hold. False: none. */
  pageCeiling?: PageCeilingOptions | false;
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
    /** Chance that a read marketing message is clicked (a delay after the read); default 0. */
    clickProbability?: number;
    /** Also send `marketing_message_echoes` at the send; default false. */
    echoes?: boolean;
    /**
     * `envelope` (default): statuses as `entry[].changes[]` items; `bare`: the flat objects of
     * Meta's pages, one delivery each (META_PLATFORM.md section 3 is unsure which Meta sends).
     */
    shape?: MarketingStatusShape;
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
  /** The time the Page ceiling counts in (ms, any origin); default the clock. */
  realNow?: () => number;
  /** Whether webhooks still reach the app for a Page (Meta unsubscribes it after failures). */
  appDelivers?: (pageId: string) => boolean;
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
  /**
   * How the Page sends with tokens: on `marketing_messages` a person has one token for all the
   * Page's topics. Default `marketing_messages` with an ad account, else `send_api`.
   */
  route?: SendRoute;
  /** Calls per second before rate-limit errors; default from the simulator's options. */
  ratePerSecond?: number;
  /** The access token's permissions; default every one Recurrent needs on either route. */
  permissions?: readonly string[];
  /** The webhook fields the app is subscribed to; default every field Recurrent reads. */
  subscribedFields?: readonly string[];
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
  /**
   * When the call arrived, in the rate limits' time (`realNow`): what Meta's per-second limits
   * count, and so what a Page's busiest second is measured on.
   */
  arrivedAt: number;
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
