import * as z from 'zod';
import { type Command, UsageError } from './command.ts';
import { readMessage } from './edition-commands.ts';
import { table } from './format.ts';

const broadcastSchema = z.looseObject({
  broadcastId: z.string(),
  topicId: z.string(),
  state: z.string(),
  message: z.record(z.string(), z.unknown()),
  date: z.string().optional(),
  localTime: z.string().optional(),
  now: z.literal(true).optional(),
  window: z.object({ from: z.string(), to: z.string() }),
  startedAt: z.string().optional(),
  counts: z.object({
    sent: z.number(),
    failed: z.number(),
    skipped: z.record(z.string(), z.number()),
  }),
});
type BroadcastLine = z.infer<typeof broadcastSchema>;

/** `recurrent broadcast`, `broadcast list`, `broadcast cancel`: one extra message to a topic's subscribers. */
export const BROADCAST_COMMANDS: Record<string, Command> = {
  broadcast: {
    usage:
      'broadcast --page <pageId> --topic <topicId> (--text <text> | --file <message.json>) (--date <YYYY-MM-DD> --time <HH:mm> | --now)',
    summary:
      "send one extra message to every active subscriber of a topic at a local date and time in their own zone, or now; who is still in Meta's cooldown is skipped",
    options: ['page', 'topic', 'text', 'file', 'date', 'time', 'now'],
    required: ['page', 'topic'],
    async build(values) {
      if ((values.text === undefined) === (values.file === undefined)) {
        throw new UsageError('give one of --text <text> or --file <message.json>');
      }
      const dated = values.date !== undefined || values.time !== undefined;
      if (dated === (values.now === true)) {
        throw new UsageError('give --date <YYYY-MM-DD> with --time <HH:mm>, or --now');
      }
      const message =
        values.text !== undefined ? { text: values.text } : await readMessage(values.file ?? '');
      return {
        method: 'POST',
        path: broadcastsPath(values.topic),
        body: {
          pageId: values.page,
          message,
          ...(dated ? { date: values.date, localTime: values.time } : { now: true }),
        },
      };
    },
    render(body) {
      const { broadcast, queued } = z
        .object({ broadcast: broadcastSchema, queued: z.number().optional() })
        .parse(body);
      return [
        `Broadcast ${broadcast.broadcastId} of topic ${broadcast.topicId}: ${broadcast.state}, ${when(broadcast)}`,
        `  from ${broadcast.window.from} (first zone) to ${broadcast.window.to} (last zone)`,
        ...(queued === undefined ? [] : [`  ${queued} jobs queued`]),
      ].join('\n');
    },
  },
  'broadcast list': {
    usage: 'broadcast list --page <pageId> --topic <topicId>',
    summary: "a topic's broadcasts: state, window, sends and skips by reason",
    options: ['page', 'topic'],
    required: ['page', 'topic'],
    build: (values) => ({
      method: 'GET',
      path: broadcastsPath(values.topic),
      query: { pageId: values.page },
    }),
    render(body) {
      const { items } = z.object({ items: z.array(broadcastSchema) }).parse(body);
      if (items.length === 0) return 'No broadcasts.';
      return table(
        ['ID', 'STATE', 'WHEN', 'FIRST ZONE', 'LAST ZONE', 'SENT', 'FAILED', 'SKIPPED'],
        items.map((item) => [
          item.broadcastId,
          item.state,
          when(item),
          item.window.from,
          item.window.to,
          String(item.counts.sent),
          String(item.counts.failed),
          skips(item),
        ]),
        ['left', 'left', 'left', 'left', 'left', 'right', 'right'],
      );
    },
  },
  'broadcast cancel': {
    usage: 'broadcast cancel --page <pageId> --topic <topicId> --id <broadcastId>',
    summary: 'cancel a broadcast no fan-out run has started yet',
    options: ['page', 'topic', 'id'],
    required: ['page', 'topic', 'id'],
    build: (values) => ({
      method: 'DELETE',
      path: `${broadcastsPath(values.topic)}/${encodeURIComponent(values.id ?? '')}`,
      query: { pageId: values.page },
    }),
    render(body) {
      const { broadcast } = z.object({ broadcast: broadcastSchema }).parse(body);
      return `Broadcast ${broadcast.broadcastId} cancelled: nothing of it is sent.`;
    },
  },
};

function broadcastsPath(topicId: string | undefined): string {
  return `/admin/topics/${encodeURIComponent(topicId ?? '')}/broadcasts`;
}

function when(broadcast: BroadcastLine): string {
  return broadcast.now ? 'now' : `${broadcast.date} ${broadcast.localTime} local`;
}

/** `cooldown 4, quiet-hours 1`, or `-`. */
function skips(broadcast: BroadcastLine): string {
  const entries = Object.entries(broadcast.counts.skipped);
  return entries.length === 0 ? '-' : entries.map(([reason, n]) => `${reason} ${n}`).join(', ');
}
