import { describe, expect, it } from 'vitest';
import { fixedClock } from '#lib/clock.ts';
import {
  type Check,
  type DiagnosticsDeps,
  parseDiagnostics,
  runDiagnostics,
} from '#lib/domain/admin/diagnostics.ts';
import type { SetupGraph } from '#lib/domain/admin/graph.ts';
import { InvalidInputError } from '#lib/domain/errors.ts';
import type { GraphCallResult } from '#lib/domain/meta-errors.ts';
import type { Page } from '#lib/domain/page.ts';

const NOW = Date.parse('2026-11-21T09:00:00Z');
const TOKEN = 'page-token-secret';
const APP = '777';
const MM_FIELDS = [
  'messaging_optins',
  'messages',
  'marketing_message_deliveries',
  'marketing_message_reads',
  'marketing_message_clicks',
  'marketing_message_delivery_failed',
];

function aPage(overrides: Partial<Page> = {}): Page {
  return {
    pageId: '101',
    accessToken: TOKEN,
    deliveryRoute: 'marketing_messages',
    adAccountId: '555',
    campaignId: '900',
    ratePerSecond: 20,
    timezone: 'UTC',
    status: 'active',
    ...overrides,
  };
}

const ok = <T>(value: T): GraphCallResult<T> => ({ kind: 'ok', value });
const refused = (code: number, subcode?: number): GraphCallResult<never> => ({
  kind: 'refused',
  status: 400,
  error: { code, ...(subcode !== undefined && { subcode }) },
});

/** A Graph where everything is set up right, with `overrides` breaking parts of it. */
function aGraph(overrides: Partial<SetupGraph> = {}): SetupGraph {
  return {
    readPage: async ({ pageId }) => ok({ id: pageId, name: 'Deals' }),
    debugToken: async () =>
      ok({
        valid: true,
        appId: APP,
        scopes: ['pages_messaging', 'ads_management', 'paid_marketing_messages'],
      }),
    subscribedApps: async () => ok([{ appId: APP, fields: MM_FIELDS }]),
    readAdAccount: async () => ok({ accountStatus: 1 }),
    readCampaign: async () => ok({ status: 'ACTIVE', createdAt: NOW - 2 * 3_600_000 }),
    ...overrides,
  };
}

function deps(
  options: {
    pages?: Page[];
    graph?: Partial<SetupGraph>;
    lastDeliveryAt?: number | undefined;
    dlq?: number;
  } = {},
): DiagnosticsDeps {
  const pages = options.pages ?? [aPage()];
  return {
    catalog: {
      listPages: async () => pages,
      getPage: async (pageId) => pages.find((page) => page.pageId === pageId),
    },
    graph: aGraph(options.graph),
    webhookDeliveries: {
      lastDeliveryAt: async () =>
        'lastDeliveryAt' in options ? options.lastDeliveryAt : NOW - 60_000,
    },
    queueDepths: {
      depths: async () => [
        { name: 'send', messages: options.dlq ?? 0 },
        { name: 'schedule', messages: 0 },
      ],
    },
    clock: fixedClock(NOW),
  };
}

function statusOf(checks: Check[], id: Check['id']) {
  return checks.find((check) => check.id === id);
}

describe('runDiagnostics', () => {
  it('passes every check of a Page set up right, and says which ones it ran', async () => {
    const report = await runDiagnostics({}, deps());
    expect(report.ok).toBe(true);
    expect(report.checks.map((check) => [check.id, check.status])).toEqual([
      ['page-token', 'pass'],
      ['permissions', 'pass'],
      ['webhook-fields', 'pass'],
      ['ad-account', 'pass'],
      ['campaign', 'pass'],
      ['webhook-delivery', 'pass'],
      ['dead-letter-queues', 'pass'],
    ]);
  });

  it('checks no ad account or campaign on the Send API route, nor its marketing fields', async () => {
    const page = aPage({ deliveryRoute: 'send_api' });
    const report = await runDiagnostics(
      {},
      deps({
        pages: [page],
        graph: {
          debugToken: async () => ok({ valid: true, appId: APP, scopes: ['pages_messaging'] }),
          subscribedApps: async () =>
            ok([{ appId: APP, fields: ['messages', 'messaging_optins'] }]),
        },
      }),
    );
    expect(report.ok).toBe(true);
    expect(report.checks.map((check) => check.id)).not.toContain('campaign');
  });

  it.each<{
    name: string;
    options: Parameters<typeof deps>[0];
    id: Check['id'];
    status: 'fail' | 'warn';
    detail: RegExp;
    fix: RegExp;
  }>([
    {
      name: 'an invalid Page token',
      options: { graph: { readPage: async () => refused(190) } },
      id: 'page-token',
      status: 'fail',
      detail: /190/,
      fix: /pages put 101 --access-token -/,
    },
    {
      name: 'a missing permission',
      options: {
        graph: {
          debugToken: async () => ok({ valid: true, appId: APP, scopes: ['pages_messaging'] }),
        },
      },
      id: 'permissions',
      status: 'fail',
      detail: /ads_management, paid_marketing_messages or marketing_messages_messenger/,
      fix: /grant ads_management/,
    },
    {
      name: 'an unsubscribed field',
      options: {
        graph: {
          subscribedApps: async () =>
            ok([{ appId: APP, fields: MM_FIELDS.filter((f) => f !== 'messaging_optins') }]),
        },
      },
      id: 'webhook-fields',
      status: 'fail',
      detail: /not subscribed: messaging_optins$/,
      fix: /messaging_optins field: Meta app dashboard > Messenger/,
    },
    {
      name: 'another app subscribed, not ours',
      options: { graph: { subscribedApps: async () => ok([{ appId: '1', fields: MM_FIELDS }]) } },
      id: 'webhook-fields',
      status: 'fail',
      detail: /app is not subscribed/,
      fix: /subscribe the app/,
    },
    {
      name: 'a disabled ad account',
      options: { graph: { readAdAccount: async () => ok({ accountStatus: 2 }) } },
      id: 'ad-account',
      status: 'fail',
      detail: /act_555 has account_status 2/,
      fix: /Ads Manager/,
    },
    {
      name: 'a paused campaign',
      options: { graph: { readCampaign: async () => ok({ status: 'PAUSED', createdAt: 0 }) } },
      id: 'campaign',
      status: 'fail',
      detail: /900 is PAUSED/,
      fix: /activate campaign 900/,
    },
    {
      name: 'a campaign still warming up',
      options: {
        graph: { readCampaign: async () => ok({ status: 'ACTIVE', createdAt: NOW - 10 * 60_000 }) },
      },
      id: 'campaign',
      status: 'fail',
      detail: /created 10 minutes ago/,
      fix: /wait until 2026-11-21T09:50:00.000Z/,
    },
    {
      name: 'no signed delivery yet',
      options: { lastDeliveryAt: undefined },
      id: 'webhook-delivery',
      status: 'fail',
      detail: /none received/,
      fix: /callback URL/,
    },
    {
      name: 'no signed delivery for two days',
      options: { lastDeliveryAt: NOW - 2 * 86_400_000 },
      id: 'webhook-delivery',
      status: 'warn',
      detail: /over a day ago/,
      fix: /callback URL/,
    },
    {
      name: 'messages in a dead-letter queue',
      options: { dlq: 3 },
      id: 'dead-letter-queues',
      status: 'fail',
      detail: /^send: 3 messages$/,
      fix: /start-message-move-task/,
    },
    {
      name: 'Meta not answering',
      options: {
        graph: {
          readAdAccount: async () => ({
            kind: 'unanswered',
            requestLeft: true,
            cause: 'TimeoutError',
          }),
        },
      },
      id: 'ad-account',
      status: 'warn',
      detail: /did not answer/,
      fix: /again in a minute/,
    },
  ])('reports $name', async ({ options, id, status, detail, fix }) => {
    const report = await runDiagnostics({}, deps(options));
    const check = statusOf(report.checks, id);
    expect(check?.status).toBe(status);
    expect(check?.pageId).toBe(id === 'dead-letter-queues' ? undefined : '101');
    expect(check?.detail).toMatch(detail);
    expect(check?.fix).toMatch(fix);
    expect(report.ok).toBe(status !== 'fail');
    expect(report.checks.filter((c) => c.status !== 'pass').map((c) => c.id)).toEqual([id]);
  });

  it('skips the checks that need a token when the token does not work', async () => {
    const report = await runDiagnostics(
      {},
      deps({ graph: { readPage: async () => refused(190) } }),
    );
    const ids = report.checks.map((check) => check.id);
    expect(ids).not.toContain('permissions');
    expect(ids).not.toContain('webhook-fields');
  });

  it('fails when no Page is registered, or the one asked for is not', async () => {
    expect(
      statusOf((await runDiagnostics({}, deps({ pages: [] }))).checks, 'pages-registered'),
    ).toMatchObject({ status: 'fail', fix: expect.stringMatching(/recurrent pages put/) });
    const one = await runDiagnostics({ pageId: '999' }, deps());
    expect(one.ok).toBe(false);
    expect(one.checks[0]).toMatchObject({
      id: 'pages-registered',
      detail: 'no such Page is registered',
    });
  });

  it('checks only the Page asked for', async () => {
    const pages = [aPage(), aPage({ pageId: '202' })];
    const report = await runDiagnostics({ pageId: '202' }, deps({ pages }));
    expect(new Set(report.checks.flatMap((check) => check.pageId ?? []))).toEqual(new Set(['202']));
  });

  it('warns about a paused Page with its reason', async () => {
    const report = await runDiagnostics(
      {},
      deps({ pages: [aPage({ status: 'paused', pausedReason: 'meta error 368' })] }),
    );
    expect(statusOf(report.checks, 'page-active')).toMatchObject({
      status: 'warn',
      detail: 'paused: meta error 368',
    });
  });

  it('never puts the access token in its answer', async () => {
    const report = await runDiagnostics(
      {},
      deps({ graph: { readPage: async () => refused(190) }, lastDeliveryAt: undefined, dlq: 1 }),
    );
    expect(JSON.stringify(report)).not.toContain(TOKEN);
  });
});

describe('parseDiagnostics', () => {
  it('reads an optional Page id and refuses anything else', () => {
    expect(parseDiagnostics({ params: {}, query: { pageId: '42' }, body: undefined })).toEqual({
      pageId: '42',
    });
    expect(parseDiagnostics({ params: {}, query: {}, body: undefined })).toEqual({});
    expect(() => parseDiagnostics({ params: {}, query: { page: '42' }, body: undefined })).toThrow(
      InvalidInputError,
    );
  });
});
