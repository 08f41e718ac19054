import { readFile } from 'node:fs/promises';
import * as z from 'zod';
import { type Command, UsageError } from './command.ts';
import { table } from './format.ts';

const editionSchema = z.looseObject({
  pageId: z.string(),
  topicId: z.string(),
  date: z.string(),
  message: z.record(z.string(), z.unknown()),
  updatedAt: z.string(),
  firstSentAt: z.string().optional(),
  results: z
    .looseObject({ sent: z.number(), delivered: z.number(), read: z.number(), clicked: z.number() })
    .optional(),
});
type EditionLine = z.infer<typeof editionSchema>;

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;
const MONTH_NAMES =
  'January February March April May June July August September October November December'.split(
    ' ',
  );

/** `recurrent editions put|list|show|delete`: a topic's message for one local date. */
export const EDITION_COMMANDS: Record<string, Command> = {
  'editions put': {
    usage:
      'editions put --page <pageId> --topic <topicId> --date <YYYY-MM-DD> (--text <text> | --file <message.json>)',
    summary:
      "set the topic's edition for one local date (everyone whose local date it is gets it); refused once it went out",
    options: ['page', 'topic', 'date', 'text', 'file'],
    required: ['page', 'topic', 'date'],
    async build(values) {
      if ((values.text === undefined) === (values.file === undefined)) {
        throw new UsageError('give one of --text <text> or --file <message.json>');
      }
      const message =
        values.text !== undefined ? { text: values.text } : await readMessage(values.file ?? '');
      return {
        method: 'PUT',
        path: editionPath(values.topic, values.date),
        body: { pageId: values.page, message },
      };
    },
    render(body) {
      const { created, edition } = z
        .object({ created: z.boolean(), edition: editionSchema })
        .parse(body);
      return `Edition ${edition.date} of topic ${edition.topicId} ${created ? 'created' : 'updated'}: ${preview(edition)}`;
    },
  },
  'editions show': {
    usage: 'editions show --page <pageId> --topic <topicId> --date <YYYY-MM-DD>',
    summary: 'show one edition, and when it first went out',
    options: ['page', 'topic', 'date'],
    required: ['page', 'topic', 'date'],
    build: (values) => ({
      method: 'GET',
      path: editionPath(values.topic, values.date),
      query: { pageId: values.page },
    }),
    render(body) {
      const edition = editionSchema.parse(body);
      return [
        `Edition ${edition.date} of topic ${edition.topicId} (Page ${edition.pageId})`,
        `  ${edition.firstSentAt ? `first went out ${edition.firstSentAt}: can no longer change` : `not sent yet; updated ${edition.updatedAt}`}`,
        `  message ${JSON.stringify(edition.message)}`,
      ].join('\n');
    },
  },
  'editions delete': {
    usage: 'editions delete --page <pageId> --topic <topicId> --date <YYYY-MM-DD>',
    summary: 'delete an edition that has not gone out yet',
    options: ['page', 'topic', 'date'],
    required: ['page', 'topic', 'date'],
    build: (values) => ({
      method: 'DELETE',
      path: editionPath(values.topic, values.date),
      query: { pageId: values.page },
    }),
    render(body) {
      const { date } = z.object({ date: z.string() }).parse(body);
      return `Edition ${date} deleted.`;
    },
  },
  'editions list': {
    usage: 'editions list --page <pageId> --topic <topicId> --month <YYYY-MM>',
    summary:
      "a month of a topic's editions as a calendar: which dates have one, which went out, how many received it",
    options: ['page', 'topic', 'month'],
    required: ['page', 'topic', 'month'],
    build(values) {
      const { from, to } = monthRange(values.month ?? '');
      return {
        method: 'GET',
        path: `/admin/topics/${encodeURIComponent(values.topic ?? '')}/editions`,
        query: { pageId: values.page, from, to },
      };
    },
    render(body, values) {
      const { items } = z.object({ items: z.array(editionSchema) }).parse(body);
      return editionCalendar(values.month ?? '', items);
    },
  },
};

/**
 * A month as a calendar, Monday first: `e` marks a date with an edition, `s` one that went out;
 * then one line per edition.
 */
export function editionCalendar(month: string, editions: readonly EditionLine[]): string {
  const { from, to } = monthRange(month);
  const byDay = new Map(editions.map((edition) => [Number(edition.date.slice(8)), edition]));
  const first = new Date(`${from}T00:00:00Z`);
  const lead = (first.getUTCDay() + 6) % 7;
  const days = Number(to.slice(8));
  const cells = [
    ...Array.from({ length: lead }, () => '    '),
    ...Array.from({ length: days }, (_, i) => {
      const edition = byDay.get(i + 1);
      const mark = edition === undefined ? ' ' : edition.firstSentAt ? 's' : 'e';
      return `${String(i + 1).padStart(3)}${mark}`;
    }),
  ];
  const weeks: string[] = [];
  for (let i = 0; i < cells.length; i += 7)
    weeks.push(
      cells
        .slice(i, i + 7)
        .join('')
        .trimEnd(),
    );
  const title = `${MONTH_NAMES[first.getUTCMonth()]} ${first.getUTCFullYear()}  (e: edition, s: went out)`;
  const lines = [title, ' Mo  Tu  We  Th  Fr  Sa  Su', ...weeks];
  if (editions.length === 0) return [...lines, '', 'No editions this month.'].join('\n');
  const rows = editions.map((edition) => [
    edition.date,
    edition.firstSentAt ?? 'not yet',
    String(edition.results?.sent ?? 0),
    String(edition.results?.delivered ?? 0),
    String(edition.results?.read ?? 0),
    String(edition.results?.clicked ?? 0),
    preview(edition),
  ]);
  const headers = ['DATE', 'FIRST SENT', 'SENT', 'DELIVERED', 'READ', 'CLICKED', 'MESSAGE'];
  const align = ['left', 'left', 'right', 'right', 'right', 'right'] as const;
  return [...lines, '', table(headers, rows, align)].join('\n');
}

function monthRange(month: string): { from: string; to: string } {
  const match = MONTH.exec(month);
  if (!match) throw new UsageError(`--month must be YYYY-MM, got ${JSON.stringify(month)}`);
  const [year, index] = [Number(match[1]), Number(match[2])];
  const last = new Date(Date.UTC(year, index, 0)).getUTCDate();
  return { from: `${month}-01`, to: `${month}-${String(last).padStart(2, '0')}` };
}

function editionPath(topicId: string | undefined, date: string | undefined): string {
  return `/admin/topics/${encodeURIComponent(topicId ?? '')}/editions/${encodeURIComponent(date ?? '')}`;
}

/** A message object read from a JSON file; a file that cannot be read or parsed is a usage error. */
export async function readMessage(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch (error: unknown) {
    throw new UsageError(
      `--file ${file}: ${error instanceof SyntaxError ? 'not valid JSON' : 'cannot be read'}`,
    );
  }
}

/** The start of an edition's text, or what kind of message it is. */
function preview(edition: EditionLine): string {
  const text = edition.message.text;
  if (typeof text !== 'string') return '(attachment)';
  return [...text].length > 40 ? `${[...text].slice(0, 39).join('')}…` : text;
}
