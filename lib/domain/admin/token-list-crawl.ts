import type { GraphCallResult } from '../meta-errors.ts';
import type { Page } from '../page.ts';
import type { AdminGraph, TokenNode } from './graph.ts';

/** Tokens asked of Meta per page of the token list (META_PLATFORM.md section 7). */
export const TOKEN_LIST_PAGE_SIZE = 1000;
/** `do_not_return_duplicates` ends the list at this many people. */
export const ONE_PER_PERSON_CAP = 10_000;
/** The crawl stops while this much of the invocation is left: a list cut short. */
const RESERVE_MS = 5_000;

/** A token list read to its end, or why it was not. */
export type CrawlResult =
  | {
      kind: 'listed';
      tokens: TokenNode[];
      malformed: number;
      /** Meta's one-per-person cap was reached: people past it are not in the list. */
      capped: boolean;
    }
  | {
      kind: 'cut';
      /** `refused`/`unanswered`: Meta's answer; `time`: the invocation ran short. */
      reason: 'time' | 'cursor';
      pages: number;
    }
  | { kind: 'failed'; failure: Exclude<GraphCallResult<unknown>, { kind: 'ok' }>; pages: number };

/**
 * Reads a Page's whole token list, one page after another, before anything is decided: a list
 * Meta refuses or cuts short is returned as such, and its tokens are never used. The marketing
 * route asks for one token per person.
 */
export async function crawlTokenList(
  page: Page,
  graph: AdminGraph,
  timeLeft: () => number,
): Promise<CrawlResult> {
  const onePerPerson = page.deliveryRoute === 'marketing_messages';
  const tokens: TokenNode[] = [];
  const cursors = new Set<string>();
  let malformed = 0;
  let after: string | undefined;
  for (let pages = 0; ; pages++) {
    if (pages > 0 && timeLeft() < RESERVE_MS) return { kind: 'cut', reason: 'time', pages };
    const listed = await graph.listTokens({
      pageId: page.pageId,
      accessToken: page.accessToken,
      limit: TOKEN_LIST_PAGE_SIZE,
      ...(after !== undefined && { after }),
      ...(onePerPerson && { onePerPerson }),
    });
    if (listed.kind !== 'ok') return { kind: 'failed', failure: listed, pages };
    tokens.push(...listed.value.tokens);
    malformed += listed.value.malformed;
    after = listed.value.after;
    if (after === undefined) {
      return {
        kind: 'listed',
        tokens,
        malformed,
        capped: onePerPerson && tokens.length + malformed >= ONE_PER_PERSON_CAP,
      };
    }
    // A cursor seen before would page forever: the list cannot be read to its end.
    if (cursors.has(after)) return { kind: 'cut', reason: 'cursor', pages: pages + 1 };
    cursors.add(after);
  }
}
