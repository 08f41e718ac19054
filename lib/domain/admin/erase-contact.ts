import * as z from 'zod';
import type { Clock } from '../../clock.ts';
import type { Log } from '../../log.ts';
import { idSchema } from '../ids.ts';
import type { AdminGraph } from './graph.ts';
import { type AdminRequest, parseInput } from './input.ts';
import { type MetaUnsubscribeOutcome, unsubscribeAtMeta } from './meta-unsubscribe.ts';
import type { AdminCatalog, ContactEraser, ErasedCounts, PendingUnsubscribes } from './ports.ts';

const eraseParamsSchema = z.object({ pageId: idSchema('Page id'), psid: idSchema('PSID') });

export type EraseContactInput = z.infer<typeof eraseParamsSchema>;

/** Reads `DELETE /admin/contacts/{pageId}/{psid}`. */
export function parseEraseContact(request: AdminRequest): EraseContactInput {
  return parseInput(eraseParamsSchema, request.params);
}

export interface EraseContactDeps {
  eraser: ContactEraser;
  catalog: AdminCatalog;
  graph: AdminGraph;
  pendingUnsubscribes: PendingUnsubscribes;
  clock: Clock;
  log: Log;
}

/**
 * Erases everything stored about one person of one Page: subscriptions (and with them their
 * due-index and Page-index entries), the contact record, the token directory entries of their
 * current tokens. Then tells Meta (the Unsubscribe API), best effort: a pending record, made
 * before the erasure so a crash cannot lose it, keeps only the PSID and the retry's facts until
 * Meta confirms; the daily run retries it. Idempotent: erasing again finds nothing and tells
 * Meta again. Daily stats stay, as they count no one.
 */
export async function eraseContact(
  input: EraseContactInput,
  deps: EraseContactDeps,
): Promise<{ pageId: string; psid: string; erased: ErasedCounts; meta: MetaUnsubscribeOutcome }> {
  const page = await deps.catalog.getPage(input.pageId);
  const now = deps.clock.now();
  const pending = { ...input, erasedAt: now, attempts: 0, nextAttemptAt: now };
  if (page) await deps.pendingUnsubscribes.put(pending);
  const erased = await deps.eraser.erase(input.pageId, input.psid);
  const meta: MetaUnsubscribeOutcome = page
    ? ((await unsubscribeAtMeta(page, [pending], deps)).get(input.psid) ?? {
        status: 'skipped',
        reason: 'no answer recorded',
      })
    : {
        status: 'skipped',
        reason: 'the Page is not registered: there is no token to tell Meta with',
      };
  // The PSID is personal data: the log keeps only what was done.
  deps.log.info('contact erased', { pageId: input.pageId, ...erased, meta: meta.status });
  return { pageId: input.pageId, psid: input.psid, erased, meta };
}
