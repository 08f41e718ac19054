import { graphErrors } from './graph-errors.ts';
import { numericId } from './ids.ts';
import {
  inboundEvent,
  optInEvent,
  type PolicyEnforcement,
  policyEnforcementEvent,
  statusEvent,
} from './meta-events.ts';
import {
  checkZone,
  createToken,
  DAY_MS,
  DEFAULT_PERMISSIONS,
  DEFAULT_SUBSCRIBED_FIELDS,
  type ModelState,
  pageOf,
  personKey,
  personOf,
  tokenFor,
  uniquePsid,
  view,
} from './model-state.ts';
import {
  type ModelResult,
  type PageSetup,
  type PersonSetup,
  SimulatorSetupError,
  type TokenSeed,
  type TokenView,
} from './model-types.ts';
import { organicMessages } from './organic-messages.ts';

/** Pages, their ad accounts and campaigns: what a test registers and the calls that read them. */
export function pageSetup(state: ModelState) {
  const { pages, adAccounts, campaigns, peopleCount } = state;
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
          accountStatus: account?.accountStatus ?? 1,
        });
      }
      pages.set(setup.id, {
        id: setup.id,
        accessToken: setup.accessToken,
        timezone,
        ...(setup.adAccountId !== undefined && { adAccountId: setup.adAccountId }),
        route: setup.route ?? (setup.adAccountId === undefined ? 'send_api' : 'marketing_messages'),
        ...(setup.ratePerSecond !== undefined && { ratePerSecond: setup.ratePerSecond }),
        permissions: new Set(setup.permissions ?? DEFAULT_PERMISSIONS),
        subscribedFields: new Set(setup.subscribedFields ?? DEFAULT_SUBSCRIBED_FIELDS),
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

    /**
     * Registers a campaign an operator made at Meta earlier; returns its id. It is active and,
     * unless `createdAt` says otherwise, a day old (past its warm-up).
     */
    addCampaign(input: {
      adAccountId: string;
      pageId: string;
      name?: string;
      id?: string;
      createdAt?: number;
    }): string {
      if (!adAccounts.has(input.adAccountId)) {
        throw new SimulatorSetupError(`no ad account '${input.adAccountId}' in the simulator`);
      }
      pageOf(state, input.pageId);
      const id = input.id ?? numericId(15);
      campaigns.set(id, {
        id,
        adAccountId: input.adAccountId,
        pageId: input.pageId,
        name: input.name ?? `Campaign ${id}`,
        status: 'ACTIVE',
        createdAt: input.createdAt ?? state.clock.now() - DAY_MS,
      });
      return id;
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
      campaigns.set(id, {
        id,
        adAccountId,
        pageId: input.pageId,
        name: input.name,
        status: 'ACTIVE',
        createdAt: state.clock.now(),
      });
      return { ok: true, value: { id } };
    },
  };
}

/** The people on the Pages: their setup, and what they do (write, stop, resume, block). */
export function peopleActions(state: ModelState) {
  const { people, peopleCount, clock, emit } = state;
  const conversations = organicMessages(state);

  function setStopped(pageId: string, psid: string, topicId: string, stopped: boolean) {
    const token = tokenFor(state, pageId, psid, topicId);
    token.stopped = stopped;
    const spelling = state.options.stopStatusSpelling ?? 'space';
    emit(statusEvent(token, stopped ? 'STOP' : 'RESUME', clock.now(), spelling));
  }

  return {
    /** Adds a person who can talk to a Page; returns their PSID. */
    addPerson(setup: PersonSetup): { pageId: string; psid: string } {
      pageOf(state, setup.pageId);
      if (setup.timezone !== undefined) checkZone(setup.timezone, 'person zone');
      const psid = setup.psid ?? uniquePsid(state, setup.pageId);
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
      const who = personOf(state, pageId, psid);
      if (patch.acceptsOptIn !== undefined) who.acceptsOptIn = patch.acceptsOptIn;
      if (patch.timezone !== undefined) {
        checkZone(patch.timezone, 'person zone');
        who.timezone = patch.timezone;
      }
      if (patch.country !== undefined) who.country = patch.country.toUpperCase();
    },

    /** Creates a token directly (a pre-2023 WEEKLY token, say), without an opt-in request. */
    seedToken(seed: TokenSeed): TokenView {
      pageOf(state, seed.pageId);
      const who = personOf(state, seed.pageId, seed.psid);
      const token = createToken(state, {
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
      if (seed.announce) emit(optInEvent(token, state.expiryFormat));
      return view(token);
    },

    /** The person messages the Page: opens the 24 h window and sends a `messages` webhook. */
    personWrites(pageId: string, psid: string, text = 'Hello'): void {
      const who = personOf(state, pageId, psid);
      const now = clock.now();
      who.lastMessageAt = now;
      emit(inboundEvent(pageId, psid, now, text));
    },

    /**
     * Every person's organic conversations with their Page since the last call (or since first
     * seen), up to now: one `messages` webhook each (`organicTraffic.pageShare`); returns how many.
     */
    peopleConverse(): number {
      return conversations.deliverUntil(clock.now());
    },

    /** The person taps "stop" on a topic: sends the webhook; sends answer 10/1893015. */
    personStops(pageId: string, psid: string, topicId: string): void {
      setStopped(pageId, psid, topicId, true);
    },

    /** The person resumes a topic they stopped. */
    personResumes(pageId: string, psid: string, topicId: string): void {
      setStopped(pageId, psid, topicId, false);
    },

    /**
     * The person opts out of the Page's marketing messages: MM sends answer 2300034 until a new
     * opt-in. The MM API has no stop webhook, so none is sent.
     */
    personOptsOut(pageId: string, psid: string): void {
      const who = personOf(state, pageId, psid);
      who.marketingOptOut = true;
      who.optOutAnswered = false;
    },

    /** The person blocks the Page: every message to them is refused. No webhook. */
    personBlocks(pageId: string, psid: string): void {
      personOf(state, pageId, psid).blocked = true;
    },

    personUnblocks(pageId: string, psid: string): void {
      personOf(state, pageId, psid).blocked = false;
    },

    /** Meta warns, blocks or unblocks the Page: a policy enforcement webhook, nothing else. */
    policyEnforcement(pageId: string, policy: PolicyEnforcement): void {
      pageOf(state, pageId);
      emit(policyEnforcementEvent(pageId, clock.now(), policy));
    },
  };
}
