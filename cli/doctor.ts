import * as z from 'zod';
import type { Command } from './command.ts';

const checkSchema = z.looseObject({
  id: z.string(),
  title: z.string(),
  status: z.enum(['pass', 'warn', 'fail']),
  detail: z.string(),
  fix: z.string().optional(),
  pageId: z.string().optional(),
});

const reportSchema = z.looseObject({ ok: z.boolean(), checks: z.array(checkSchema) });

const MARK = { pass: '✓', warn: '!', fail: '✗' } as const;

/**
 * `recurrent doctor [--page ID]`: the admin API's diagnostics, one line per check and the fix
 * under each one that did not pass. The API answering at all is the first check.
 */
export const doctorCommand: Command = {
  usage: 'doctor [--page <pageId>]',
  summary:
    "check the deployment end to end: the admin API, each Page's token, permissions and webhook fields, ad account and campaign, the webhook's deliveries, the dead-letter queues (exit 1 when a check fails)",
  options: ['page'],
  build: (values) => ({
    method: 'GET',
    path: '/admin/diagnostics',
    query: { pageId: values.page },
  }),
  render(body) {
    const { checks } = reportSchema.parse(body);
    const lines = [`${MARK.pass} admin API answers`];
    for (const check of checks) {
      const page = check.pageId === undefined ? '' : `Page ${check.pageId}: `;
      lines.push(`${MARK[check.status]} ${page}${check.title}: ${check.detail}`);
      if (check.status !== 'pass' && check.fix !== undefined) lines.push(`    fix: ${check.fix}`);
    }
    const failed = checks.filter((check) => check.status === 'fail').length;
    const warned = checks.filter((check) => check.status === 'warn').length;
    lines.push(
      failed === 0 && warned === 0
        ? 'Every check passed.'
        : `${failed} check${failed === 1 ? '' : 's'} failed, ${warned} warning${warned === 1 ? '' : 's'}.`,
    );
    return lines.join('\n');
  },
  exitCode: (body) => (reportSchema.safeParse(body).data?.ok === true ? 0 : 1),
  unanswered:
    "✗ admin API answers\n    fix: start the runtime (npm start) or pass --url <the stack's AdminBaseUrl output>; locally set ADMIN_TOKEN or --token, on AWS use credentials allowed to call the API\n",
};
