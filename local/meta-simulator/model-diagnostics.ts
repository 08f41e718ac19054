import { graphErrors } from './graph-errors.ts';
import { type ModelState, pageOf, SIMULATED_APP } from './model-state.ts';
import { type ModelResult, SimulatorSetupError } from './model-types.ts';

/**
 * The Graph reads an operator's setup check makes (a Page, its token's permissions, the app's
 * webhook fields on it, an ad account, a campaign), answered as Meta documents them.
 */
export function setupReads(state: ModelState) {
  const { pages, adAccounts, campaigns } = state;

  return {
    /** `GET /{page-id}?fields=id,name`. */
    readPage(pageId: string): ModelResult<{ id: string; name: string }> {
      return { ok: true, value: { id: pageOf(state, pageId).id, name: `Page ${pageId}` } };
    },

    /**
     * `GET /debug_token?input_token=...`: a token no Page or ad account holds is answered as
     * Meta does, `is_valid: false` with the error inside `data`, not as a failed call.
     */
    debugToken(inputToken: string | undefined): ModelResult<{ data: Record<string, unknown> }> {
      const page = [...pages.values()].find((p) => p.accessToken === inputToken);
      if (!page) {
        return {
          ok: true,
          value: {
            data: {
              app_id: SIMULATED_APP.id,
              is_valid: false,
              scopes: [],
              error: { code: 190, message: 'Invalid OAuth access token.' },
            },
          },
        };
      }
      return {
        ok: true,
        value: {
          data: {
            app_id: SIMULATED_APP.id,
            application: SIMULATED_APP.name,
            type: 'PAGE',
            profile_id: page.id,
            is_valid: true,
            expires_at: 0,
            scopes: [...page.permissions],
          },
        },
      };
    },

    /**
     * `GET /{page-id}/subscribed_apps`: the app, while it is subscribed to any field and Meta
     * has not unsubscribed it after failed deliveries.
     */
    subscribedApps(pageId: string): ModelResult<{ data: unknown[] }> {
      const fields = [...pageOf(state, pageId).subscribedFields];
      const delivering = state.options.appDelivers?.(pageId) ?? true;
      if (!delivering || fields.length === 0) return { ok: true, value: { data: [] } };
      return {
        ok: true,
        value: {
          data: [{ id: SIMULATED_APP.id, name: SIMULATED_APP.name, subscribed_fields: fields }],
        },
      };
    },

    /** `GET act_<id>?fields=account_status`. */
    readAdAccount(adAccountId: string): ModelResult<Record<string, unknown>> {
      const account = adAccounts.get(adAccountId);
      if (!account)
        return { ok: false, error: graphErrors.unknownObject(`act_${adAccountId}`, 'GET') };
      return {
        ok: true,
        value: {
          id: `act_${account.id}`,
          account_id: account.id,
          account_status: account.accountStatus,
        },
      };
    },

    /** `GET <campaign-id>?fields=status,effective_status,created_time`. */
    readCampaign(campaignId: string): ModelResult<Record<string, unknown>> {
      const campaign = campaigns.get(campaignId);
      if (!campaign) return { ok: false, error: graphErrors.unknownObject(campaignId, 'GET') };
      return {
        ok: true,
        value: {
          id: campaign.id,
          name: campaign.name,
          status: campaign.status,
          effective_status: campaign.status,
          // Graph's own format: `2026-03-01T09:30:00+0000`.
          created_time: new Date(campaign.createdAt).toISOString().replace(/\.\d{3}Z$/, '+0000'),
        },
      };
    },

    /** The ad account a campaign belongs to, when the campaign exists. */
    campaignAccount(campaignId: string): string | undefined {
      return campaigns.get(campaignId)?.adAccountId;
    },
  };
}

/** The control calls a test breaks an operator's setup with, from now on. */
export function setupControls(state: ModelState) {
  const { adAccounts, campaigns } = state;

  return {
    /** Changes a Page's token permissions or the app's webhook fields on it, from now on. */
    updatePageSetup(
      pageId: string,
      patch: { permissions?: readonly string[]; subscribedFields?: readonly string[] },
    ): void {
      const page = pageOf(state, pageId);
      if (patch.permissions) page.permissions = new Set(patch.permissions);
      if (patch.subscribedFields) page.subscribedFields = new Set(patch.subscribedFields);
    },

    /** Sets an ad account's `account_status` (2 disabled, 3 unsettled, ...). */
    updateAdAccount(adAccountId: string, patch: { accountStatus: number }): void {
      const account = adAccounts.get(adAccountId);
      if (!account)
        throw new SimulatorSetupError(`no ad account '${adAccountId}' in the simulator`);
      account.accountStatus = patch.accountStatus;
    },

    /** Pauses or resumes a campaign, or moves its creation time (to make it too young). */
    updateCampaign(
      campaignId: string,
      patch: { status?: 'ACTIVE' | 'PAUSED'; createdAt?: number },
    ): void {
      const campaign = campaigns.get(campaignId);
      if (!campaign) throw new SimulatorSetupError(`no campaign '${campaignId}' in the simulator`);
      if (patch.status) campaign.status = patch.status;
      if (patch.createdAt !== undefined) campaign.createdAt = patch.createdAt;
    },
  };
}
