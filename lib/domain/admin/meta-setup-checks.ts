import type { GraphCallResult } from '../meta-errors.ts';
import type { DeliveryRoute, Page } from '../page.ts';
import type { CheckId, DiagnosticsDeps, PageCheck } from './diagnostics.ts';
import { metaCallFailure, type TokenDebug } from './graph.ts';

/**
 * The checks of a Page's setup at Meta (token, permissions, webhook fields, ad account,
 * campaign), each read from Graph and judged against what Recurrent needs on the Page's route.
 */

/** What the Meta checks read: Graph, and the clock the warm-up is measured on. */
type SetupDeps = Pick<DiagnosticsDeps, 'graph' | 'clock'>;

/** The permissions a Page's access token needs on each route (META_PLATFORM.md sections 2, 4). */
export const REQUIRED_PERMISSIONS: Record<DeliveryRoute, readonly (readonly string[])[]> = {
  // Each inner list is one requirement; any of its names meets it.
  send_api: [['pages_messaging']],
  marketing_messages: [
    ['pages_messaging'],
    ['ads_management'],
    ['paid_marketing_messages', 'marketing_messages_messenger'],
  ],
};

/** The webhook fields the app must be subscribed to on a Page, per route. */
export const REQUIRED_FIELDS: Record<DeliveryRoute, readonly string[]> = {
  send_api: ['messaging_optins', 'messages'],
  marketing_messages: [
    'messaging_optins',
    'messages',
    'marketing_message_deliveries',
    'marketing_message_reads',
    'marketing_message_clicks',
    'marketing_message_delivery_failed',
  ],
};

/** A campaign needs about this long after its creation before its first send (section 4). */
export const CAMPAIGN_WARM_UP_MS = 60 * 60_000;

const ACTIVE_AD_ACCOUNT = 1;
const GRACE_PERIOD_AD_ACCOUNT = 9;

/** A Graph call that did not come back with an answer: a refusal fails, no answer warns. */
function notOk(
  id: CheckId,
  title: string,
  result: Exclude<GraphCallResult<unknown>, { kind: 'ok' }>,
  fix: string,
  now: number,
): PageCheck {
  const reached = result.kind === 'refused' && (result.status < 500 || result.error === undefined);
  return {
    id,
    title,
    status: reached ? 'fail' : 'warn',
    detail: metaCallFailure('Meta', result, now).message,
    fix: reached ? fix : 'Meta did not answer: run the check again in a minute',
  };
}

export async function checkToken(page: Page, deps: SetupDeps): Promise<PageCheck> {
  const title = "Page's access token works";
  const result = await deps.graph.readPage({
    pageId: page.pageId,
    accessToken: page.accessToken,
  });
  if (result.kind !== 'ok') {
    return notOk(
      'page-token',
      title,
      result,
      `make a new Page access token (Meta Business Suite > system user, or Graph API Explorer) and register it: recurrent pages put ${page.pageId} --access-token -`,
      deps.clock.now(),
    );
  }
  const name = result.value.name === undefined ? '' : ` (${result.value.name})`;
  return {
    id: 'page-token',
    title,
    status: 'pass',
    detail: `Graph reads Page ${page.pageId}${name}`,
  };
}

export type TokenDebugResult = GraphCallResult<TokenDebug>;

export function checkPermissions(page: Page, result: TokenDebugResult, now: number): PageCheck {
  const title = `token has the permissions of the ${page.deliveryRoute} route`;
  const fix = (missing: string) =>
    `grant ${missing} to the app (App Review for live apps), make a new Page token with them and register it: recurrent pages put ${page.pageId} --access-token -`;
  if (result.kind !== 'ok') return notOk('permissions', title, result, fix('the permissions'), now);
  if (!result.value.valid) {
    return {
      id: 'permissions',
      title,
      status: 'fail',
      detail: 'Meta says the token is not valid',
      fix: fix('the permissions'),
    };
  }
  const granted = new Set(result.value.scopes);
  const missing = REQUIRED_PERMISSIONS[page.deliveryRoute]
    .filter((anyOf) => !anyOf.some((name) => granted.has(name)))
    .map((anyOf) => anyOf.join(' or '));
  if (missing.length > 0) {
    return {
      id: 'permissions',
      title,
      status: 'fail',
      detail: `missing: ${missing.join(', ')}`,
      fix: fix(missing.join(', ')),
    };
  }
  return {
    id: 'permissions',
    title,
    status: 'pass',
    detail: 'every permission the route needs is granted',
  };
}

export async function checkFields(
  page: Page,
  debug: TokenDebugResult,
  deps: SetupDeps,
): Promise<PageCheck> {
  const title = 'app subscribed to the webhook fields';
  const fix = (fields: readonly string[]) =>
    `subscribe the app to the Page's ${fields.join(', ')} field${fields.length === 1 ? '' : 's'}: Meta app dashboard > Messenger > Settings > Webhooks (or POST /${page.pageId}/subscribed_apps?subscribed_fields=${fields.join(',')} with the Page token)`;
  const needed = REQUIRED_FIELDS[page.deliveryRoute];
  const result = await deps.graph.subscribedApps({
    pageId: page.pageId,
    accessToken: page.accessToken,
  });
  if (result.kind !== 'ok')
    return notOk('webhook-fields', title, result, fix(needed), deps.clock.now());
  // The token's app is ours; without its id, the only app subscribed is taken as ours.
  const appId = debug.kind === 'ok' ? debug.value.appId : undefined;
  const ours =
    appId === undefined
      ? result.value.length === 1
        ? result.value[0]
        : undefined
      : result.value.find((app) => app.appId === appId);
  if (!ours) {
    return {
      id: 'webhook-fields',
      title,
      status: 'fail',
      detail: 'the app is not subscribed to the Page',
      fix: fix(needed),
    };
  }
  const subscribed = new Set(ours.fields);
  const missing = needed.filter((field) => !subscribed.has(field));
  if (missing.length > 0) {
    return {
      id: 'webhook-fields',
      title,
      status: 'fail',
      detail: `not subscribed: ${missing.join(', ')}`,
      fix: fix(missing),
    };
  }
  return { id: 'webhook-fields', title, status: 'pass', detail: needed.join(', ') };
}

export async function checkAdAccount(page: Page, deps: SetupDeps): Promise<PageCheck> {
  const title = 'ad account is active';
  if (page.adAccountId === undefined) {
    return {
      id: 'ad-account',
      title,
      status: 'fail',
      detail: 'the Page has no ad account',
      fix: `recurrent pages put ${page.pageId} --ad-account <id>`,
    };
  }
  const adAccountId = page.adAccountId.replace(/^act_/, '');
  const result = await deps.graph.readAdAccount({ adAccountId, accessToken: page.accessToken });
  const fix = `check ad account act_${adAccountId} in Meta Ads Manager (payment method, restrictions), or register another: recurrent pages put ${page.pageId} --ad-account <id>`;
  if (result.kind !== 'ok') return notOk('ad-account', title, result, fix, deps.clock.now());
  const status = result.value.accountStatus;
  if (status === ACTIVE_AD_ACCOUNT) {
    return { id: 'ad-account', title, status: 'pass', detail: `act_${adAccountId} is active` };
  }
  return {
    id: 'ad-account',
    title,
    status: status === GRACE_PERIOD_AD_ACCOUNT ? 'warn' : 'fail',
    detail: `act_${adAccountId} has account_status ${status} (1 is active)`,
    fix,
  };
}

export async function checkCampaign(page: Page, deps: SetupDeps): Promise<PageCheck> {
  const title = 'campaign is active and warmed up';
  const fix = `make a campaign (POST act_<id>/message_campaign), wait an hour, then: recurrent pages put ${page.pageId} --campaign <id>`;
  if (page.campaignId === undefined) {
    return { id: 'campaign', title, status: 'fail', detail: 'the Page has no campaign', fix };
  }
  const now = deps.clock.now();
  const result = await deps.graph.readCampaign({
    campaignId: page.campaignId,
    accessToken: page.accessToken,
  });
  if (result.kind !== 'ok') return notOk('campaign', title, result, fix, now);
  const { status, createdAt } = result.value;
  if (status !== 'ACTIVE') {
    return {
      id: 'campaign',
      title,
      status: 'fail',
      detail: `campaign ${page.campaignId} is ${status}`,
      fix: `activate campaign ${page.campaignId} in Meta Ads Manager, or register another: recurrent pages put ${page.pageId} --campaign <id>`,
    };
  }
  if (createdAt !== undefined && now - createdAt < CAMPAIGN_WARM_UP_MS) {
    const ready = new Date(createdAt + CAMPAIGN_WARM_UP_MS).toISOString();
    return {
      id: 'campaign',
      title,
      status: 'fail',
      detail: `campaign ${page.campaignId} was created ${Math.floor((now - createdAt) / 60_000)} minutes ago; Meta refuses sends during its first 60`,
      fix: `wait until ${ready}: sends before then are refused (warming up)`,
    };
  }
  return { id: 'campaign', title, status: 'pass', detail: `campaign ${page.campaignId} is active` };
}
