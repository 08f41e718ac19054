import * as z from 'zod';
import type { Log } from '../../log.ts';
import { idSchema } from '../ids.ts';
import { type AdminRequest, parseInput } from './input.ts';
import type { ContactEraser, ErasedCounts } from './ports.ts';

const eraseParamsSchema = z.object({ pageId: idSchema('Page id'), psid: idSchema('PSID') });

export type EraseContactInput = z.infer<typeof eraseParamsSchema>;

/** Reads `DELETE /admin/contacts/{pageId}/{psid}`. */
export function parseEraseContact(request: AdminRequest): EraseContactInput {
  return parseInput(eraseParamsSchema, request.params);
}

/**
 * Erases everything stored about one person of one Page: subscriptions (and with them their
 * due-index and Page-index entries), the contact record, the token directory entries of their
 * current tokens. Idempotent: erasing again finds nothing. Daily stats stay, as they count no one.
 */
export async function eraseContact(
  input: EraseContactInput,
  deps: { eraser: ContactEraser; log: Log },
): Promise<{ pageId: string; psid: string; erased: ErasedCounts }> {
  const erased = await deps.eraser.erase(input.pageId, input.psid);
  // The PSID is personal data: the log keeps only what was done.
  deps.log.info('contact erased', { pageId: input.pageId, ...erased });
  return { pageId: input.pageId, psid: input.psid, erased };
}
