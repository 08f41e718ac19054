import * as z from 'zod';
import { BROADCAST_COMMANDS } from './broadcast-commands.ts';
import { type Command, numberOrText, UsageError, withoutUndefined } from './command.ts';
import { doctorCommand } from './doctor.ts';
import { EDITION_COMMANDS } from './edition-commands.ts';
import { barChart, shortInstant, table } from './format.ts';
import { eraseCommand, reconcileCommand } from './people-commands.ts';
import { TOPIC_COMMANDS } from './topic-commands.ts';

/** Every command, by its words (`pages put`, `stats`). */
export const COMMANDS: Record<string, Command> = {
  'pages put': {
    usage:
      'pages put <pageId> [--access-token <token>|-] [--route send_api|marketing_messages] [--ad-account <id>] [--campaign <id>] [--rate <1-40>] [--timezone <IANA zone>] [--status active|paused] [--default-topic <topicId>|-]',
    summary: 'register or update a Page (--access-token - reads it from stdin)',
    options: [
      'access-token',
      'route',
      'ad-account',
      'campaign',
      'rate',
      'timezone',
      'status',
      'default-topic',
    ],
    positionals: 1,
    async build(values, [pageId], io) {
      let accessToken = values['access-token'];
      if (accessToken === '-') accessToken = (await io.readStdin()).trim();
      return {
        method: 'PUT',
        path: `/admin/pages/${encodeURIComponent(pageId ?? '')}`,
        body: withoutUndefined({
          accessToken,
          deliveryRoute: values.route,
          adAccountId: values['ad-account'],
          campaignId: values.campaign,
          ratePerSecond: numberOrText(values.rate),
          timezone: values.timezone,
          status: values.status,
          // `-` removes the default topic.
          defaultTopicId: values['default-topic'] === '-' ? null : values['default-topic'],
        }),
      };
    },
    render(body) {
      const { created, page } = z.object({ created: z.boolean(), page: pageSchema }).parse(body);
      return `Page ${page.pageId} ${created ? 'registered' : 'updated'}: ${describePage(page)}`;
    },
  },
  'pages list': {
    usage: 'pages list',
    summary: 'list the registered Pages (never their tokens)',
    options: [],
    build: () => ({ method: 'GET', path: '/admin/pages' }),
    render(body) {
      const { items } = z.object({ items: z.array(pageSchema) }).parse(body);
      if (items.length === 0) return 'No Pages registered.';
      return table(
        'PAGE|ROUTE|RATE/S|TIMEZONE|STATUS|TOKEN|AD ACCOUNT|CAMPAIGN|HELD'.split('|'),
        items.map((page) => [
          page.pageId,
          page.deliveryRoute,
          String(page.ratePerSecond),
          page.timezone,
          page.status === 'paused' && page.pausedReason
            ? `paused (${page.pausedReason})`
            : page.status,
          page.hasAccessToken ? 'set' : 'missing',
          page.adAccountId ?? '-',
          page.campaignId ?? '-',
          // Meta's hold on the Page's MM sends, until then (a past one holds nothing), and why.
          page.heldUntil === undefined
            ? '-'
            : `until ${new Date(page.heldUntil).toISOString()} (${page.heldReason ?? '?'})`,
        ]),
        ['left', 'left', 'right'],
      );
    },
  },
  ...TOPIC_COMMANDS,
  ...EDITION_COMMANDS,
  ...BROADCAST_COMMANDS,
  'subs list': {
    usage:
      'subs list --page <pageId> [--topic <topicId>] [--status active|stopped|invalid|unreachable] [--limit <1-100>] [--cursor <cursor>]',
    summary: "list a Page's subscriptions, a page at a time (never their tokens)",
    options: ['page', 'topic', 'status', 'limit', 'cursor'],
    required: ['page'],
    build: (values) => ({
      method: 'GET',
      path: '/admin/subscriptions',
      query: {
        pageId: values.page,
        topicId: values.topic,
        status: values.status,
        limit: values.limit,
        cursor: values.cursor,
      },
    }),
    render(body) {
      const { items, cursor } = z
        .object({
          items: z.array(
            z.looseObject({
              psid: z.string(),
              topicId: z.string(),
              status: z.string(),
              cadence: z.string().nullable(),
              timezone: z.string(),
              nextDueAt: z.string().nullable(),
              lastSentAt: z.string().nullable(),
            }),
          ),
          cursor: z.string().nullable(),
        })
        .parse(body);
      const lines = [
        items.length === 0
          ? 'No subscriptions.'
          : table(
              ['PSID', 'TOPIC', 'STATUS', 'CADENCE', 'TIMEZONE', 'NEXT DUE', 'LAST SENT'],
              items.map((item) => [
                item.psid,
                item.topicId,
                item.status,
                item.cadence ?? '-',
                item.timezone,
                shortInstant(item.nextDueAt),
                shortInstant(item.lastSentAt),
              ]),
            ),
      ];
      if (cursor !== null) lines.push('', `More: add --cursor ${cursor}`);
      return lines.join('\n');
    },
  },
  'optin-request': {
    usage:
      'optin-request --topic <topicId> --psid <psid> [--page <pageId>] [--cta ALLOW|GET|GET_UPDATES|OPT_IN|SIGN_UP]',
    summary:
      "send a topic's opt-in template to a person (inside their 24 h window, once per 7 days)",
    options: ['topic', 'psid', 'page', 'cta'],
    required: ['topic', 'psid'],
    build: (values) => ({
      method: 'POST',
      path: `/admin/topics/${encodeURIComponent(values.topic ?? '')}/optin-requests`,
      body: withoutUndefined({ psid: values.psid, pageId: values.page, ctaText: values.cta }),
    }),
    render(body) {
      const sent = z
        .object({ pageId: z.string(), psid: z.string(), topicId: z.string() })
        .parse(body);
      return `Opt-in request for ${sent.topicId} sent to ${sent.psid} (Page ${sent.pageId}).`;
    },
  },
  fanout: {
    usage: 'fanout --cadence DAILY|WEEKLY|MONTHLY [--at <ISO instant>]',
    summary: "run a cadence's fan-out now, as if its schedule fired at --at (default: now)",
    options: ['cadence', 'at'],
    required: ['cadence'],
    build: (values) => ({
      method: 'POST',
      path: '/admin/fanout',
      body: withoutUndefined({ cadence: values.cadence?.toUpperCase(), scheduledTime: values.at }),
    }),
    render(body) {
      const run = z
        .object({
          cadence: z.string(),
          scheduledTime: z.string(),
          queued: z.number(),
          scanned: z.number(),
          partitions: z.number(),
          handedOver: z.boolean(),
        })
        .parse(body);
      return [
        `${run.cadence} fan-out at ${run.scheduledTime}: queued ${run.queued} send job${run.queued === 1 ? '' : 's'} (${run.partitions} partitions, ${run.scanned} items read).`,
        ...(run.handedOver ? ['The rest was handed over to the fan-out function.'] : []),
      ].join('\n');
    },
  },
  stats: {
    usage:
      'stats --page <pageId> [--topic <topicId>] [--from yyyy-mm-dd] [--to yyyy-mm-dd] [--counter sent|optins|stops|...]',
    summary: 'daily counters as a bar chart (default: sent, the last 30 days)',
    options: ['page', 'topic', 'from', 'to', 'counter'],
    required: ['page'],
    build: (values) => ({
      method: 'GET',
      path: '/admin/stats',
      query: { pageId: values.page, topicId: values.topic, from: values.from, to: values.to },
    }),
    render(body, values) {
      const counters = z.record(z.string(), z.number());
      const report = z
        .object({
          pageId: z.string(),
          topicId: z.string().nullable(),
          from: z.string(),
          to: z.string(),
          days: z.array(z.looseObject({ day: z.string() })),
          totals: counters,
          topics: z.array(z.object({ topicId: z.string(), totals: counters })),
        })
        .parse(body);
      const counter = values.counter ?? 'sent';
      if (!(counter in report.totals)) {
        throw new UsageError(`--counter must be one of ${Object.keys(report.totals).join(', ')}`);
      }
      const lines = [
        `${counter} per day, Page ${report.pageId}, ${report.topicId === null ? 'all topics' : `topic ${report.topicId}`}, ${report.from} to ${report.to}`,
        '',
        ...barChart(
          report.days.map((entry) => ({
            label: entry.day,
            value: typeof entry[counter] === 'number' ? entry[counter] : 0,
          })),
        ),
        '',
        `Totals: ${Object.entries(report.totals)
          .map(([name, value]) => `${name} ${value}`)
          .join(', ')}`,
      ];
      if (report.topicId === null && report.topics.length > 0) {
        const names = Object.keys(report.totals);
        lines.push(
          '',
          table(
            ['TOPIC', ...names.map((name) => name.toUpperCase())],
            report.topics.map((topic) => [
              topic.topicId,
              ...names.map((name) => String(topic.totals[name] ?? 0)),
            ]),
            ['left', ...names.map(() => 'right' as const)],
          ),
        );
      }
      return lines.join('\n');
    },
  },
  erase: eraseCommand,
  reconcile: reconcileCommand,
  doctor: doctorCommand,
};

const pageSchema = z.looseObject({
  pageId: z.string(),
  deliveryRoute: z.string(),
  ratePerSecond: z.number(),
  timezone: z.string(),
  status: z.string(),
  pausedReason: z.string().optional(),
  heldUntil: z.number().optional(),
  heldReason: z.string().optional(),
  hasAccessToken: z.boolean(),
  adAccountId: z.string().optional(),
  campaignId: z.string().optional(),
  defaultTopicId: z.string().optional(),
});

function describePage(page: z.infer<typeof pageSchema>): string {
  const route =
    page.deliveryRoute === 'marketing_messages'
      ? `marketing_messages (ad account ${page.adAccountId ?? '?'}, campaign ${page.campaignId ?? '?'})`
      : page.deliveryRoute;
  const joins = page.defaultTopicId ? `, people only Meta lists join ${page.defaultTopicId}` : '';
  return `${route}, ${page.ratePerSecond}/s, ${page.timezone}, ${page.status}${page.pausedReason ? ` (${page.pausedReason})` : ''}${joins}`;
}
