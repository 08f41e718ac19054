import * as z from 'zod';
import type { Clock } from '../../clock.ts';
import { idSchema } from '../ids.ts';
import type { Page } from '../page.ts';
import type { SetupGraph } from './graph.ts';
import { type AdminRequest, parseInput } from './input.ts';
import {
  checkAdAccount,
  checkCampaign,
  checkFields,
  checkPermissions,
  checkToken,
} from './meta-setup-checks.ts';
import type { AdminCatalog } from './ports.ts';

/**
 * `GET /admin/diagnostics`: checks a deployment's setup at Meta and its own health, one check at
 * a time, each with what to do when it fails. Nothing in an answer is a token.
 */

export type CheckStatus = 'pass' | 'warn' | 'fail';

/** One check's verdict; `fix` says what to do when it is not a pass. */
export interface Check {
  id: CheckId;
  title: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
  /** The Page the check is about; absent for the deployment's own checks. */
  pageId?: string;
}

export type CheckId =
  | 'pages-registered'
  | 'page-token'
  | 'page-active'
  | 'permissions'
  | 'webhook-fields'
  | 'ad-account'
  | 'campaign'
  | 'webhook-delivery'
  | 'dead-letter-queues';

export interface DiagnosticsReport {
  /** False when any check failed. */
  ok: boolean;
  checks: Check[];
}

/** When the webhook last took a signed delivery for a Page. */
export interface WebhookDeliveries {
  lastDeliveryAt(pageId: string): Promise<number | undefined>;
}

/** Messages waiting in the deployment's dead-letter queues, by queue. */
export interface QueueDepths {
  depths(): Promise<({ name: string; messages: number } | { name: string; error: string })[]>;
}

export interface DiagnosticsDeps {
  catalog: Pick<AdminCatalog, 'getPage' | 'listPages'>;
  graph: SetupGraph;
  webhookDeliveries: WebhookDeliveries;
  queueDepths: QueueDepths;
  clock: Clock;
}

/** A Page's check before the Page is named on it. */
export type PageCheck = Omit<Check, 'pageId'>;

/** No signed delivery for this long is worth a warning. */
export const QUIET_WEBHOOK_MS = 24 * 3_600_000;

const diagnosticsQuery = z.strictObject({ pageId: idSchema('Page id').optional() });

/** Reads `GET /admin/diagnostics?pageId=`. */
export function parseDiagnostics(request: AdminRequest): { pageId?: string } {
  return parseInput(diagnosticsQuery, request.query);
}

/** Runs every check, for one Page or for each registered Page, then the deployment's own. */
export async function runDiagnostics(
  input: { pageId?: string },
  deps: DiagnosticsDeps,
): Promise<DiagnosticsReport> {
  const pages = await pagesToCheck(input, deps);
  const checks: Check[] = [];
  if (pages.length === 0) {
    checks.push({
      id: 'pages-registered',
      title: input.pageId === undefined ? 'Pages registered' : `Page ${input.pageId} registered`,
      status: 'fail',
      detail: input.pageId === undefined ? 'no Page is registered' : 'no such Page is registered',
      fix: 'register it: recurrent pages put <pageId> --access-token - (reads the token from stdin)',
    });
  }
  const perPage = await Promise.all(pages.map((page) => checkPage(page, deps)));
  checks.push(...perPage.flat(), await checkDeadLetterQueues(deps));
  return { ok: checks.every((check) => check.status !== 'fail'), checks };
}

async function pagesToCheck(input: { pageId?: string }, deps: DiagnosticsDeps): Promise<Page[]> {
  if (input.pageId === undefined) return deps.catalog.listPages();
  const page = await deps.catalog.getPage(input.pageId);
  return page ? [page] : [];
}

/** One Page's checks; those that need a working token are left out when it does not work. */
async function checkPage(page: Page, deps: DiagnosticsDeps): Promise<Check[]> {
  const on = (check: Omit<Check, 'pageId'>): Check => ({ ...check, pageId: page.pageId });
  const token = await checkToken(page, deps);
  const checks = [on(token)];
  if (page.status === 'paused') {
    checks.push(
      on({
        id: 'page-active',
        title: 'Page is sending',
        status: 'warn',
        detail: `paused${page.pausedReason ? `: ${page.pausedReason}` : ''}`,
        fix: `fix the reason, then: recurrent pages put ${page.pageId} --status active`,
      }),
    );
  }
  if (token.status === 'pass') {
    const debug = await deps.graph.debugToken({ accessToken: page.accessToken });
    checks.push(
      on(checkPermissions(page, debug, deps.clock.now())),
      on(await checkFields(page, debug, deps)),
    );
  }
  if (page.deliveryRoute === 'marketing_messages') {
    const [account, campaign] = await Promise.all([
      checkAdAccount(page, deps),
      checkCampaign(page, deps),
    ]);
    checks.push(on(account), on(campaign));
  }
  checks.push(on(await checkWebhookDelivery(page, deps)));
  return checks;
}

async function checkWebhookDelivery(page: Page, deps: DiagnosticsDeps): Promise<PageCheck> {
  const title = 'webhook received a signed delivery';
  const fix =
    "check the app's callback URL is this deployment's /webhook (WebhookUrl output) and its app secret is the one in the Meta secret; then write to the Page from a test account";
  const at = await deps.webhookDeliveries.lastDeliveryAt(page.pageId);
  if (at === undefined) {
    return {
      id: 'webhook-delivery',
      title,
      status: 'fail',
      detail: 'none received for this Page yet',
      fix,
    };
  }
  const ago = deps.clock.now() - at;
  const when = new Date(at).toISOString();
  if (ago > QUIET_WEBHOOK_MS) {
    return {
      id: 'webhook-delivery',
      title,
      status: 'warn',
      detail: `last one at ${when}, over a day ago`,
      fix,
    };
  }
  return { id: 'webhook-delivery', title, status: 'pass', detail: `last one at ${when}` };
}

async function checkDeadLetterQueues(deps: DiagnosticsDeps): Promise<Check> {
  const title = 'dead-letter queues are empty';
  const depths = await deps.queueDepths.depths();
  if (depths.length === 0) {
    return {
      id: 'dead-letter-queues',
      title,
      status: 'warn',
      detail: 'no dead-letter queue is configured',
      fix: 'set SEND_DLQ_URL (and SCHEDULE_DLQ_URL, FANOUT_FAILURE_QUEUE_URL) for the admin function',
    };
  }
  const unread = depths.filter((depth) => 'error' in depth);
  const full = depths.flatMap((depth) =>
    'messages' in depth && depth.messages > 0 ? [depth] : [],
  );
  if (full.length > 0) {
    return {
      id: 'dead-letter-queues',
      title,
      status: 'fail',
      detail: full
        .map(({ name, messages }) => `${name}: ${messages} message${messages === 1 ? '' : 's'}`)
        .join(', '),
      fix: 'read them (aws sqs receive-message) to learn what failed and fix it; then move them back (aws sqs start-message-move-task) or purge them',
    };
  }
  if (unread.length > 0) {
    return {
      id: 'dead-letter-queues',
      title,
      status: 'warn',
      detail: `could not read ${unread.map(({ name }) => name).join(', ')}`,
      fix: 'the admin function needs sqs:GetQueueAttributes on each dead-letter queue',
    };
  }
  return {
    id: 'dead-letter-queues',
    title,
    status: 'pass',
    detail: depths.map(({ name }) => name).join(', '),
  };
}
