/**
 * The Meta simulator: the one stand-in for Meta's Graph API and webhooks, used by `npm start`
 * (when META_GRAPH_URL is unset) and by end-to-end tests. It follows META_PLATFORM.md; where that
 * is unsure it chooses, and says so here:
 *
 * - Usage headers: `X-Business-Use-Case-Usage` reports the Page's share of its 24 h budget (200
 *   calls per person on the Page, counted as engaged users); the budget is not enforced. The
 *   per-second limit answers rate-limit errors; a Page refused for a while reads 100 %.
 * - Time: every Meta rule (24 h window, 7-day opt-in limit, cooldowns, webhook timestamps and
 *   marketing status delays) reads only the injected `clock`. Rate limits count REAL time
 *   (`realNow`), as they protect Meta's servers, as of each call's arrival (`arrival-front.ts`);
 *   latency, hangs and webhook retries use real timers.
 * - Tokens: a repeat opt-in on the same topic refreshes the token the person has
 *   (`user_token_status: REFRESHED`) instead of issuing another; tokens never expire (Aug 2023),
 *   `token_expiry_timestamp` is written only if `tokenExpiry` says so. The requested frequency is
 *   ignored (2023+) unless `honourOptInFrequency`; `seedToken` makes pre-2023 WEEKLY/MONTHLY ones.
 * - Cooldowns count the last send on either route: legacy 48 h (calendar week/month in the Page's
 *   zone for WEEKLY/MONTHLY tokens), new API 12 h; too early is 4/2018354, or 2300035 with
 *   `error_data.remaining_seconds` on the MM API (2300052 only with `marketingCooldownCode`).
 * - MM route (a Page with an ad account, or `route`): one token per person and Page, so a
 *   person's second topic shares the cooldown; `personOptsOut` makes MM sends answer 2300034
 *   with no webhook. Frequency caps (2300042-44, `frequency-caps.ts`) apply when
 *   `organicTraffic` is given, counting other businesses' messages too; `peopleConverse` sends
 *   its `pageShare` of conversations as `messages` webhooks. Token sends over 40 a second on one Page hold it for 60 s
 *   (32 legacy, 2300078 MM, with remaining_seconds), counted on `realNow`.
 * - Status: `counters().refusedByRule` counts calls refused by rule (cooldown, stop, dead
 *   token, a repeated frequency cap within 24 h, the ceiling, the opt-in limit), never the
 *   faults injected; the runtime shows it at `GET /_local/simulator/status`.
 * - Access: a missing or unknown token is 190 (Meta says 104 when missing); a known token on an
 *   unknown object is 100/33.
 * - Token reads: `GET /{page}/notification_message_tokens` lists tokens not stopped, oldest first
 *   (`notification_messages_token`; with `do_not_return_duplicates=true` each person's oldest,
 *   at most 10,000 people), timestamps in seconds, `next_eligible_time` for the legacy route,
 *   cursors opaque, `paging.next` the same URL (access token included) when more remain. Over
 *   1,000 reads an hour per person who wrote in the last day: 2300080 with `remaining_seconds`.
 *   `POST /{page}/messaging_customer_base/unsubscribe` stops every token of each PSID (or the
 *   named token) on the Page; rows naming nothing there count in `invalid_rows_count`. `GET /notification_messages_<TOKEN>`
 *   answers the same node plus `id`, `page_id` and `notification_messages_status`
 *   (`ACTIVE` or `STOP NOTIFICATIONS`), with the token's Page access token only.
 * - Webhooks: one delivery in flight per Page; events pending meanwhile go together in the next
 *   (one `entry`, `messaging[]` and `changes[]`). Bodies escape non-ASCII as \uXXXX and `/` as
 *   `\/`, signed with sha256 and sha1 headers. A failed batch is retried with the same bytes
 *   (newer events may overtake it, as at Meta); when given up, the Page is unsubscribed until
 *   `resubscribe`. Without a webhook URL events are recorded as dropped.
 * - Setup reads (`GET /{page}`, `/debug_token`, `/{page}/subscribed_apps`, `act_<id>`, a
 *   campaign): one simulated app; a Page's token carries every permission Recurrent needs and
 *   the app is subscribed to every field it reads, until a test changes them; a campaign made
 *   with `addCampaign` is a day old unless told otherwise, one made over Graph is new.
 * - Timeouts (fault): the call is acted on (a send happens, `answered: false`) unless
 *   `timeoutProcessesRequest: false`, then the connection is cut after `hangMs`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '#lib/clock.ts';
import { type Log, silentLog } from '#lib/log.ts';
import { createArrivalClock, startArrivalFront } from './arrival-front.ts';
import { createCounters, type SimulatorStatus } from './counters.ts';
import {
  createFaults,
  type FaultConfig,
  type InjectedError,
  type RateLimitBurst,
} from './faults.ts';
import type { RateLimitCode } from './graph-errors.ts';
import { createGraphRoutes } from './graph-routes.ts';
import type { PolicyEnforcement } from './meta-events.ts';
import {
  createMetaModel,
  type ModelBehaviour,
  type PageSetup,
  type PersonSetup,
  type SentMessage,
  type TokenListRules,
  type TokenSeed,
  type TokenView,
} from './model.ts';
import { createRateLimiter } from './rate-limiter.ts';
import {
  createWebhookDelivery,
  type DeliveryRecord,
  type SettleOptions,
  type WebhookDeliveryOptions,
} from './webhook-delivery.ts';

export type { SimulatorCounters, SimulatorStatus } from './counters.ts';
export type { FaultConfig, GraphRoute, InjectedError, RateLimitBurst } from './faults.ts';
export type { BlockedError, RateLimitCode, RejectReason } from './graph-errors.ts';
export type { PolicyEnforcement } from './meta-events.ts';
export {
  type ModelBehaviour,
  type PageSetup,
  type PersonSetup,
  type SentMessage,
  SimulatorSetupError,
  type TokenExpiryFormat,
  type TokenListRules,
  type TokenSeed,
  type TokenView,
} from './model.ts';
export type { RuleRefusals } from './rule-refusals.ts';
export {
  type DeliveryAttempt,
  type DeliveryRecord,
  type SettleOptions,
  SettleTimeoutError,
} from './webhook-delivery.ts';

/** How to start the simulator; everything but the clock and the app secret has a default. */
export interface MetaSimulatorOptions extends ModelBehaviour {
  /** The runtime's clock (possibly virtual): every Meta rule and timestamp reads it, nothing else. */
  clock: Clock;
  /** Signs webhook deliveries (`X-Hub-Signature-256`, and the older sha1 header). */
  appSecret: string;
  /** Our `/webhook` URL; settable later with `setWebhookUrl`. Without one, events are dropped. */
  webhookUrl?: string;
  /** Default 0: any free port. The server binds 127.0.0.1 only. */
  port?: number;
  /**
   * Real time in ms for the rate-limit window and burst durations: rate limits protect Meta's
   * servers, so they count wall time even when `clock` runs fast. Default `performance.now`.
   * Latency (unless `sleep` is given), hangs and webhook retries use real timers.
   */
  realNow?: () => number;
  /** Chance source for fault rates and read receipts; default Math.random. */
  random?: () => number;
  /** How injected latency is waited out; default a real timer (a test may hold it itself). */
  sleep?: (ms: number) => Promise<void>;
  log?: Log;
  /** Pages known from the start. */
  pages?: PageSetup[];
  rateLimit?: {
    /** Calls per second per Page unless the Page sets its own; default 300 (Send API). */
    perSecond?: number;
    /** What `X-App-Usage` reads as 100 %; default 2000/s. */
    appPerSecond?: number;
    /** Real ms a Page stays refused once over its limit; default 0 (only the 1 s window). */
    penaltyMs?: number;
    /** Default 613. */
    errorCode?: RateLimitCode;
  };
  /**
   * Takes Graph calls on a thread of its own that stamps when each arrived (`arrival-front.ts`),
   * so the rate limits count a call as it reached "Meta", not as this process's busy event loop
   * got to it. `realNowSpeed`: `realNow` ms per real ms (the runtime clock's speed); default 1.
   */
  arrivalFront?: { realNowSpeed?: number };
  webhooks?: Omit<WebhookDeliveryOptions, 'clock' | 'appSecret' | 'url' | 'log'>;
  faults?: FaultConfig;
}

/** A running simulator: its Graph URL, its control API, and what it saw. */
export interface MetaSimulator {
  /** `http://127.0.0.1:<port>`: the Graph base URL (`{url}/v24.0/...`). */
  url: string;
  stop(): Promise<void>;

  addPage(page: PageSetup): void;
  /** A campaign of the Marketing Message API; returns its id (`message_id` in sends). */
  addCampaign(campaign: {
    adAccountId: string;
    pageId: string;
    name?: string;
    id?: string;
    /** Default a day before now: a campaign made earlier, past its warm-up. */
    createdAt?: number;
  }): string;
  /** Returns the person's PSID (generated when not given). */
  addPerson(person: PersonSetup): { pageId: string; psid: string };
  updatePerson(
    pageId: string,
    psid: string,
    patch: { acceptsOptIn?: boolean; timezone?: string; country?: string },
  ): void;
  /** A token without an opt-in request or webhook (e.g. a pre-2023 WEEKLY one). */
  seedToken(seed: TokenSeed): TokenView;
  /** Changes a Page's token permissions or the app's subscribed webhook fields on it. */
  updatePageSetup(
    pageId: string,
    patch: { permissions?: readonly string[]; subscribedFields?: readonly string[] },
  ): void;
  /** Sets an ad account's Graph `account_status` (1 active, 2 disabled, 3 unsettled, ...). */
  updateAdAccount(adAccountId: string, patch: { accountStatus: number }): void;
  /** Pauses or resumes a campaign, or moves its creation time (its warm-up counts from it). */
  updateCampaign(
    campaignId: string,
    patch: { status?: 'ACTIVE' | 'PAUSED'; createdAt?: number },
  ): void;

  /** The person messages the Page: opens the 24 h window, delivers a `messages` webhook. */
  personWrites(pageId: string, psid: string, text?: string): void;
  /** People's organic conversations with their Pages up to now, as `messages` webhooks; how many. */
  peopleConverse(): number;
  /** Delivers `STOP NOTIFICATIONS`; sends with the token answer 10/1893015 until a resume. */
  personStops(pageId: string, psid: string, topicId: string): void;
  /** Delivers `RESUME NOTIFICATIONS`; the token works again. */
  personResumes(pageId: string, psid: string, topicId: string): void;
  /** MM sends to the person answer 2300034 until a new opt-in; no webhook (the MM API has none). */
  personOptsOut(pageId: string, psid: string): void;
  /** Sends to the person answer 551/1545041 (or 200/1545041) from now on. No webhook. */
  personBlocks(pageId: string, psid: string): void;
  personUnblocks(pageId: string, psid: string): void;
  /** Delivers a `messaging_policy_enforcement` event for the Page (warning, block, unblock). */
  policyEnforcement(pageId: string, policy: PolicyEnforcement): void;

  setWebhookUrl(url: string | undefined): void;
  /** Meta unsubscribes a Page after giving up a delivery; this subscribes it again. */
  resubscribe(pageId: string): void;
  isSubscribed(pageId: string): boolean;

  /** Changes fault settings at run time (`errors`, when given, replaces the injected errors). */
  setFaults(patch: FaultConfig): void;
  faults(): FaultConfig;
  /** Answers this error to the matching calls (all, or `times` of them). */
  injectError(rule: InjectedError): void;
  /** Rate-limit errors for the next N calls and/or T real ms. */
  rateLimitBurst(burst: RateLimitBurst): void;
  /** Cuts a Page's token list short, refuses it, or lowers its read limit; `undefined` clears. */
  setTokenListRules(pageId: string, rules: TokenListRules | undefined): void;

  /** Every accepted message, oldest first. */
  sent(): SentMessage[];
  /** What it answered, and the calls it refused by rule (cooldown, stop, dead token, repeated cap, 40/s, opt-in limit). */
  counters(): SimulatorStatus;
  rateLimitErrors(): number;
  /** Every webhook delivery with its exact body, signature and attempts. */
  deliveries(): DeliveryRecord[];
  tokens(pageId?: string): TokenView[];
  tokenOf(pageId: string, psid: string, topicId: string): TokenView | undefined;
  /** Resolves when no webhook delivery is pending, in flight or waiting for a retry. */
  settle(options?: SettleOptions): Promise<void>;
}

/** Starts the Meta simulator on 127.0.0.1; the stand-in for Graph API and Meta's webhooks. */
export async function startMetaSimulator(options: MetaSimulatorOptions): Promise<MetaSimulator> {
  const log = options.log ?? silentLog;
  const realNow = options.realNow ?? (() => performance.now());
  const arrival = createArrivalClock(realNow, options.arrivalFront?.realNowSpeed);
  const delivery = createWebhookDelivery({
    ...options.webhooks,
    clock: options.clock,
    appSecret: options.appSecret,
    log,
    ...(options.webhookUrl !== undefined && { url: options.webhookUrl }),
  });
  const model = createMetaModel({
    ...options,
    // The Page ceiling counts the rate limiter's time: real, or the runtime clock.
    realNow: arrival.now,
    emit: (event) => delivery.enqueue(event),
    appDelivers: (pageId) => delivery.isSubscribed(pageId),
  });
  for (const page of options.pages ?? []) model.addPage(page);
  const limiter = createRateLimiter({ ...options.rateLimit, realNow: arrival.now });
  const faults = createFaults({
    ...(options.faults !== undefined && { initial: options.faults }),
    ...(options.random !== undefined && { random: options.random }),
    realNow,
  });
  const counters = createCounters();
  const routes = createGraphRoutes({
    model,
    limiter,
    faults,
    counters,
    rateLimitCode: options.rateLimit?.errorCode ?? 613,
    log,
    arrival,
    ...(options.sleep && { sleep: options.sleep }),
  });
  const server = createServer(routes.listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // With a front, the front takes the port and this server any free one behind it.
    server.listen(options.arrivalFront ? 0 : (options.port ?? 0), '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const front = options.arrivalFront ? await startArrivalFront(options.port ?? 0, port) : undefined;
  let stopping: Promise<void> | undefined;

  return {
    url: front?.url ?? `http://127.0.0.1:${port}`,
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        delivery.stop();
        routes.stop();
        server.close(() => resolve());
        server.closeAllConnections();
      }).then(() => front?.stop());
      return stopping;
    },
    addPage: (page) => model.addPage(page),
    addCampaign: (campaign) => model.addCampaign(campaign),
    addPerson: (person) => model.addPerson(person),
    updatePerson: (pageId, psid, patch) => model.updatePerson(pageId, psid, patch),
    seedToken: (seed) => model.seedToken(seed),
    updatePageSetup: (pageId, patch) => model.updatePageSetup(pageId, patch),
    updateAdAccount: (adAccountId, patch) => model.updateAdAccount(adAccountId, patch),
    updateCampaign: (campaignId, patch) => model.updateCampaign(campaignId, patch),
    personWrites: (pageId, psid, text) => model.personWrites(pageId, psid, text),
    peopleConverse: () => model.peopleConverse(),
    personStops: (pageId, psid, topicId) => model.personStops(pageId, psid, topicId),
    personResumes: (pageId, psid, topicId) => model.personResumes(pageId, psid, topicId),
    personOptsOut: (pageId, psid) => model.personOptsOut(pageId, psid),
    personBlocks: (pageId, psid) => model.personBlocks(pageId, psid),
    personUnblocks: (pageId, psid) => model.personUnblocks(pageId, psid),
    policyEnforcement: (pageId, policy) => model.policyEnforcement(pageId, policy),
    setWebhookUrl: (url) => delivery.setUrl(url),
    resubscribe: (pageId) => delivery.resubscribe(pageId),
    isSubscribed: (pageId) => delivery.isSubscribed(pageId),
    setFaults: (patch) => faults.update(patch),
    faults: () => faults.current(),
    injectError: (rule) => faults.addError(rule),
    rateLimitBurst: (burst) => faults.addBurst(burst),
    setTokenListRules: (pageId, rules) => model.setTokenListRules(pageId, rules),
    sent: () => model.sent(),
    counters: () => ({ ...counters.snapshot(), refusedByRule: model.ruleRefusals() }),
    rateLimitErrors: () => counters.snapshot().rateLimitErrors,
    deliveries: () => delivery.records(),
    tokens: (pageId) => model.tokens(pageId),
    tokenOf: (pageId, psid, topicId) => model.tokenOf(pageId, psid, topicId),
    settle: (settle) => delivery.settle(settle),
  };
}
