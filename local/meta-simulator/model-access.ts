import { graphErrors } from './graph-errors.ts';
import { knownAccessToken, type ModelState, pageOf } from './model-state.ts';

/** Who may make a call, and whom a call concerns (for rate limits and injected errors). */
export function accessChecks(state: ModelState) {
  const { pages, adAccounts, campaigns, tokens } = state;
  return {
    /** Checks a Page access token: 190 when it is nobody's or another Page's, 100/33 for no Page. */
    authorisePage(pageId: string, accessToken: string | undefined, method: string) {
      if (!knownAccessToken(state, accessToken)) return graphErrors.invalidAccessToken();
      const found = pages.get(pageId);
      if (!found) return graphErrors.unknownObject(pageId, method);
      if (found.accessToken !== accessToken) return graphErrors.invalidAccessToken();
      return undefined;
    },

    /** Checks only that an access token is someone's (calls about the token itself). */
    authoriseToken(accessToken: string | undefined) {
      return knownAccessToken(state, accessToken) ? undefined : graphErrors.invalidAccessToken();
    },

    /** Checks a system-user token against an ad account (id without `act_`). */
    authoriseAdAccount(adAccountId: string, accessToken: string | undefined, method: string) {
      if (!knownAccessToken(state, accessToken)) return graphErrors.invalidAccessToken();
      const found = adAccounts.get(adAccountId);
      if (!found) return graphErrors.unknownObject(`act_${adAccountId}`, method);
      if (found.systemUserToken !== accessToken) return graphErrors.invalidAccessToken();
      return undefined;
    },

    /** Checks the access token of a token read: it must be the token's Page's. */
    authoriseTokenRead(token: string, accessToken: string | undefined) {
      if (!knownAccessToken(state, accessToken)) return graphErrors.invalidAccessToken();
      const found = tokens.get(token);
      if (!found) return graphErrors.unknownObject(`notification_messages_${token}`, 'GET');
      if (pageOf(state, found.pageId).accessToken !== accessToken) {
        return graphErrors.invalidAccessToken();
      }
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
  };
}
