import * as z from 'zod';
import type { Command } from './command.ts';
import { counted } from './format.ts';

const metaOutcomeSchema = z.looseObject({
  status: z.string(),
  reason: z.string().optional(),
  retryAt: z.string().optional(),
});

/** What telling Meta of an erasure came to, in words. */
function describeMeta(meta: z.infer<typeof metaOutcomeSchema> | undefined): string | undefined {
  if (meta === undefined) return undefined;
  switch (meta.status) {
    case 'unsubscribed':
      return 'Meta unsubscribed the person.';
    case 'unknown-to-meta':
      return 'Meta had no subscription of the person.';
    case 'pending':
      return `Meta was not told (${meta.reason ?? 'failed'}): retried from ${meta.retryAt ?? 'later'} by the reconcile schedule.`;
    default:
      return `Meta was not told: ${meta.reason ?? meta.status}.`;
  }
}

/** `recurrent erase`: everything stored about one person, and the Unsubscribe API at Meta. */
export const eraseCommand: Command = {
  usage: 'erase --page <pageId> --psid <psid>',
  summary: 'erase everything stored about one person of a Page, and unsubscribe them at Meta',
  options: ['page', 'psid'],
  required: ['page', 'psid'],
  build: (values) => ({
    method: 'DELETE',
    path: `/admin/contacts/${encodeURIComponent(values.page ?? '')}/${encodeURIComponent(values.psid ?? '')}`,
  }),
  render(body) {
    const { pageId, psid, erased, meta } = z
      .object({
        pageId: z.string(),
        psid: z.string(),
        erased: z.object({
          subscriptions: z.number(),
          contact: z.number(),
          tokens: z.number(),
          other: z.number(),
        }),
        meta: metaOutcomeSchema.optional(),
      })
      .parse(body);
    const parts = [
      counted(erased.subscriptions, 'subscription'),
      counted(erased.contact, 'contact record'),
      counted(erased.tokens, 'token directory entry', 'token directory entries'),
      counted(erased.other, 'other item'),
    ].filter((part) => part !== undefined);
    const told = describeMeta(meta);
    const done =
      parts.length === 0
        ? `Nothing stored about ${psid} on Page ${pageId}.`
        : `Erased ${psid} of Page ${pageId}: ${parts.join(', ')}.`;
    return told === undefined ? done : `${done}\n${told}`;
  },
};

/** `recurrent reconcile`: the Page's token list at Meta against what is stored. */
export const reconcileCommand: Command = {
  usage: 'reconcile --page <pageId>',
  summary:
    "compare the Page's token list at Meta with what is stored (never overriding newer state)",
  options: ['page'],
  required: ['page'],
  build: (values) => ({
    method: 'POST',
    path: `/admin/pages/${encodeURIComponent(values.page ?? '')}/reconcile`,
  }),
  render(body, values) {
    const result = z
      .object({
        scanned: z.number(),
        added: z.number(),
        alreadyKnown: z.number(),
        keptNewer: z.number(),
        joined: z.number(),
        unknownPeople: z.number(),
        erasurePending: z.number(),
        unmatchedTitles: z.array(z.string()),
        unmatchedTokens: z.number(),
        markedMissing: z.number(),
        stopped: z.number(),
        complete: z.boolean(),
        capped: z.boolean(),
      })
      .parse(body);
    const lines = [
      `Page ${values.page}: Meta listed ${result.scanned} tokens; ${result.added} added, ${result.alreadyKnown} already known, ${result.keptNewer} kept newer local state.`,
    ];
    const people = [
      counted(result.joined, 'person joined the default topic', 'people joined the default topic'),
      counted(
        result.unknownPeople,
        'unknown person (no default topic)',
        'unknown people (no default topic)',
      ),
      counted(result.erasurePending, 'erased person left out', 'erased people left out'),
      counted(
        result.markedMissing,
        'subscription missing for the first time',
        'subscriptions missing for the first time',
      ),
      counted(
        result.stopped,
        'subscription stopped (missing a day later too)',
        'subscriptions stopped (missing a day later too)',
      ),
    ].filter((part) => part !== undefined);
    if (people.length > 0) lines.push(`${people.join(', ')}.`);
    if (result.unmatchedTitles.length > 0) {
      lines.push(
        `${result.unmatchedTokens} tokens name no topic of the Page: ${result.unmatchedTitles.map((title) => JSON.stringify(title)).join(', ')}`,
      );
    }
    if (result.capped) {
      lines.push("Meta's list ended at its 10,000-person cap: nobody was marked missing.");
    }
    return lines.join('\n');
  },
};
