import { readFile } from 'node:fs/promises';
import * as z from 'zod';
import { type Command, numberOrText, UsageError, withoutUndefined } from './command.ts';
import { table } from './format.ts';

/** `recurrent topics put`, `list`, `resume` and `rotate-secret`. */
export const TOPIC_COMMANDS: Record<string, Command> = {
  'topics put': {
    usage:
      'topics put --file <topic.json> [--id <topicId>] [--page <pageId>] [--priority <0-100>] [--content-url <https url>] [--reindex]',
    summary:
      'create or update a topic from a JSON file ({topicId, pageId, title, cadence, sendTime, weekday?, dayOfMonth?, message, priority?, contentUrl?}); --priority and --content-url override the file; a first contentUrl prints its secret, once',
    options: ['file', 'id', 'page', 'priority', 'reindex', 'content-url'],
    required: ['file'],
    async build(values) {
      const file = values.file ?? '';
      let parsed: unknown;
      try {
        parsed = JSON.parse(await readFile(file, 'utf8'));
      } catch (error: unknown) {
        throw new UsageError(
          `--file ${file}: ${error instanceof SyntaxError ? 'not valid JSON' : 'cannot be read'}`,
        );
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        throw new UsageError(`--file ${file}: must hold a JSON object`);
      }
      const { topicId, ...topic } = parsed as Record<string, unknown>;
      const id = values.id ?? (typeof topicId === 'string' ? topicId : undefined);
      if (id === undefined) throw new UsageError('give --id <topicId>, or topicId in the file');
      return {
        method: 'PUT',
        path: `/admin/topics/${encodeURIComponent(id)}`,
        query: { reindex: values.reindex ? 'true' : undefined },
        body: {
          ...topic,
          ...withoutUndefined({
            pageId: values.page,
            priority: numberOrText(values.priority),
            contentUrl: values['content-url'],
          }),
        },
      };
    },
    render(body) {
      const { created, topic, placement, contentSecret } = z
        .object({
          created: z.boolean(),
          topic: topicSchema,
          placement: z
            .object({ scanned: z.number(), placed: z.number(), complete: z.boolean() })
            .optional(),
          contentSecret: z.string().optional(),
        })
        .parse(body);
      const lines = [
        `Topic ${topic.topicId} ${created ? 'created' : 'updated'} on Page ${topic.pageId}: "${topic.title}"`,
        `  sends ${topic.effectiveCadence}`,
        `  priority ${priorityOf(topic)}`,
      ];
      if (placement) {
        lines.push(
          `  due index: ${placement.placed} of ${placement.scanned} subscriptions placed${placement.complete ? '' : ' (incomplete: run again with --reindex)'}`,
        );
      }
      if (contentSecret !== undefined) lines.push(...contentSecretLines(contentSecret));
      return lines.join('\n');
    },
  },
  'topics rotate-secret': {
    usage: 'topics rotate-secret --page <pageId> --id <topicId>',
    summary:
      "replace a content source topic's signing secret and print the new one, once; the fan-out signs with it from its next request",
    options: ['page', 'id'],
    required: ['page', 'id'],
    build: (values) => ({
      method: 'POST',
      path: `/admin/topics/${encodeURIComponent(values.id ?? '')}/content-secret`,
      body: { pageId: values.page },
    }),
    render(body) {
      const { pageId, topicId, contentSecret } = z
        .object({ pageId: z.string(), topicId: z.string(), contentSecret: z.string() })
        .parse(body);
      return [
        `Topic ${topicId} of Page ${pageId} has a new content source secret.`,
        ...contentSecretLines(contentSecret),
      ].join('\n');
    },
  },
  'topics list': {
    usage: 'topics list --page <pageId>',
    summary: "list a Page's topics and how often they really send",
    options: ['page'],
    required: ['page'],
    build: (values) => ({ method: 'GET', path: '/admin/topics', query: { pageId: values.page } }),
    render(body) {
      const { items } = z.object({ items: z.array(topicSchema) }).parse(body);
      if (items.length === 0) return 'No topics.';
      const listed = table(
        ['TOPIC', 'TITLE', 'CADENCE', 'SENDS', 'PRIORITY'],
        items.map((topic) => [
          topic.topicId,
          topic.title,
          topic.cadence,
          topic.effectiveCadence,
          priorityOf(topic),
        ]),
      );
      return [listed, ...items.flatMap(pausedLines)].join('\n');
    },
  },
  'topics resume': {
    usage: 'topics resume --page <pageId> --id <topicId>',
    summary: 'resume a topic the stop-spike breaker paused: its 24 h start again now',
    options: ['page', 'id'],
    required: ['page', 'id'],
    build: (values) => ({
      method: 'POST',
      path: `/admin/topics/${encodeURIComponent(values.id ?? '')}/resume`,
      body: { pageId: values.page },
    }),
    render(body) {
      const { pageId, topicId, resumed, pause } = z
        .object({
          pageId: z.string(),
          topicId: z.string(),
          resumed: z.boolean(),
          pause: pauseSchema.optional(),
        })
        .parse(body);
      if (!resumed || !pause) return `Topic ${topicId} of Page ${pageId} was not paused.`;
      return `Topic ${topicId} of Page ${pageId} resumed; it was paused at ${new Date(pause.at).toISOString()}: ${pause.reason}.`;
    },
  },
};

const pauseSchema = z.object({ at: z.number(), reason: z.string() });

const topicSchema = z.looseObject({
  pageId: z.string(),
  topicId: z.string(),
  title: z.string(),
  cadence: z.string(),
  effectiveCadence: z.string(),
  priority: z.number().optional(),
  budgetRank: z.number().optional(),
  paused: pauseSchema.optional(),
});

/** The line under the table that says a topic is paused, why, and how to resume it. */
function pausedLines(topic: z.infer<typeof topicSchema>): string[] {
  if (!topic.paused) return [];
  const since = new Date(topic.paused.at).toISOString();
  return [
    `PAUSED ${topic.topicId} since ${since}: ${topic.paused.reason} (recurrent topics resume --page ${topic.pageId} --id ${topic.topicId})`,
  ];
}

/**
 * A topic's priority, and on the Marketing Message route its rank among the Page's topics for
 * a person's one message per 12 h (1 goes first).
 */
function priorityOf(topic: z.infer<typeof topicSchema>): string {
  const priority = String(topic.priority ?? 0);
  return topic.budgetRank === undefined ? priority : `${priority} (rank ${topic.budgetRank})`;
}

/** The one time a content source secret is shown: how to check a request with it. */
function contentSecretLines(secret: string): string[] {
  return [
    `  content source secret (shown this once; keep it where the source can read it): ${secret}`,
    '  each request carries X-Recurrent-Signature: sha256=<hex HMAC-SHA256 of the body with it>',
  ];
}
