import * as z from 'zod';
import type { CampaignInfo, SetupGraph, SubscribedApp, TokenDebug } from '../domain/admin/graph.ts';
import type { GraphCallResult } from '../domain/meta-errors.ts';

/** One GET through the client's transport: an answer parsed as JSON, or a failed call. */
export type GraphGet = (
  path: string,
  query: Record<string, string>,
  accessToken: string,
) => Promise<GraphCallResult<unknown>>;

const pageAnswer = z.object({ id: z.coerce.string(), name: z.string().optional() });

const debugAnswer = z.object({
  data: z.object({
    is_valid: z.boolean(),
    app_id: z.coerce.string().optional(),
    scopes: z.array(z.string()).optional(),
  }),
});

const subscribedAppsAnswer = z.object({
  data: z.array(
    z.object({
      id: z.coerce.string(),
      subscribed_fields: z.array(z.string()).optional(),
    }),
  ),
});

const adAccountAnswer = z.object({ account_status: z.coerce.number().int() });

const campaignAnswer = z.object({
  status: z.string().optional(),
  effective_status: z.string().optional(),
  // Graph writes `2026-03-01T09:30:00+0000`, which Date.parse does not read everywhere.
  created_time: z
    .string()
    .transform((value) => Date.parse(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2')))
    .optional(),
});

/**
 * The reads that check a Page's setup at Meta (`lib/domain/admin/diagnostics.ts`), each answer
 * parsed once; an answer of the wrong shape is a refusal. Tokens travel in the `get` transport's
 * header, except `debug_token`'s subject, which Meta takes only as `input_token`.
 */
export function setupReads(get: GraphGet): SetupGraph {
  const read = async <T>(
    call: Promise<GraphCallResult<unknown>>,
    parse: (json: unknown) => T | undefined,
  ): Promise<GraphCallResult<T>> => {
    const result = await call;
    if (result.kind !== 'ok') return result;
    const value = parse(result.value);
    return value === undefined ? { kind: 'refused', status: 200 } : { kind: 'ok', value };
  };
  return {
    readPage: ({ pageId, accessToken }) =>
      read(get(encodeURIComponent(pageId), { fields: 'id,name' }, accessToken), (json) => {
        const page = pageAnswer.safeParse(json).data;
        return page && { id: page.id, ...(page.name !== undefined && { name: page.name }) };
      }),

    debugToken: ({ accessToken }) =>
      read(get('debug_token', { input_token: accessToken }, accessToken), (json) => {
        const data = debugAnswer.safeParse(json).data?.data;
        if (!data) return undefined;
        const debug: TokenDebug = {
          valid: data.is_valid,
          scopes: data.scopes ?? [],
          ...(data.app_id !== undefined && { appId: data.app_id }),
        };
        return debug;
      }),

    subscribedApps: ({ pageId, accessToken }) =>
      read(get(`${encodeURIComponent(pageId)}/subscribed_apps`, {}, accessToken), (json) =>
        subscribedAppsAnswer
          .safeParse(json)
          .data?.data.map(
            (app): SubscribedApp => ({ appId: app.id, fields: app.subscribed_fields ?? [] }),
          ),
      ),

    readAdAccount: ({ adAccountId, accessToken }) =>
      read(
        get(`act_${encodeURIComponent(adAccountId)}`, { fields: 'account_status' }, accessToken),
        (json) => {
          const account = adAccountAnswer.safeParse(json).data;
          return account && { accountStatus: account.account_status };
        },
      ),

    readCampaign: ({ campaignId, accessToken }) =>
      read(
        get(
          encodeURIComponent(campaignId),
          { fields: 'status,effective_status,created_time' },
          accessToken,
        ),
        (json) => {
          const campaign = campaignAnswer.safeParse(json).data;
          const status = campaign?.effective_status ?? campaign?.status;
          if (!campaign || status === undefined) return undefined;
          const createdAt = campaign.created_time;
          const info: CampaignInfo = {
            status,
            ...(createdAt !== undefined && Number.isFinite(createdAt) && { createdAt }),
          };
          return info;
        },
      ),
  };
}
