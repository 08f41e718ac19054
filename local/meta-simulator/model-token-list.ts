import { type GraphErrorSpec, graphErrors } from './graph-errors.ts';
import type { TokenNode } from './meta-events.ts';
import { DAY_MS, type ModelState, nodeOf, type TokenState } from './model-state.ts';
import type { ModelResult } from './model-types.ts';

/**
 * The token list and the Unsubscribe API (META_PLATFORM.md section 7) with their limits:
 * `do_not_return_duplicates` gives one token per person and ends the list at 10,000 people;
 * reads over 1,000 an hour per daily active user of the Page answer 2300080. Tests may cut a
 * Page's list short or refuse it.
 */

const HOUR_MS = 3_600_000;
/** The one-per-person list ends here (Meta: "caps the crawl at 10,000"). */
export const ONE_PER_PERSON_CAP = 10_000;
/** Token-list reads per hour per daily active user (META_PLATFORM.md section 6). */
export const READS_PER_HOUR_PER_USER = 1000;

/** What a test makes a Page's token list do. */
export interface TokenListRules {
  /** Reads per rolling hour before 2300080; default 1,000 per daily active user (at least one). */
  readsPerHour?: number;
  /** Pages served per crawl before the next page fails (a transient error): the list is cut short. */
  cutAfterPages?: number;
  /** Every first page of the list answers this error instead. */
  refuse?: { code: number; subcode?: number };
}

/** One row of an Unsubscribe API call. */
export interface UnsubscribeRow {
  psid?: string;
  subscriber_token?: string;
}

/** The token-list model's own state, apart from the shared one. */
function tokenListState() {
  return {
    rules: new Map<string, TokenListRules>(),
    /** Clock times of each Page's reads within the last hour. */
    reads: new Map<string, number[]>(),
  };
}

/** Graph's token list and Unsubscribe API, and the controls that shape them. */
export function tokenListActions(state: ModelState) {
  const own = tokenListState();

  /** 2300080 when the Page has read its list too often in the last hour; records the read. */
  const overReadBudget = (pageId: string): GraphErrorSpec | undefined => {
    const now = state.clock.now();
    const recent = (own.reads.get(pageId) ?? []).filter((at) => at > now - HOUR_MS);
    const limit = own.rules.get(pageId)?.readsPerHour ?? readBudget(state, pageId, now);
    if (recent.length >= limit) {
      own.reads.set(pageId, recent);
      const oldest = recent[0] ?? now;
      return tokenListRateLimited(Math.max(1, Math.ceil((oldest + HOUR_MS - now) / 1000)));
    }
    own.reads.set(pageId, [...recent, now]);
    return undefined;
  };

  return {
    /** Sets (or with `undefined`, clears) what a Page's token list does. */
    setTokenListRules(pageId: string, rules: TokenListRules | undefined): void {
      if (rules === undefined) own.rules.delete(pageId);
      else own.rules.set(pageId, { ...rules });
    },

    /**
     * `GET /{pageId}/notification_message_tokens`: the Page's tokens not stopped, oldest first;
     * with `onePerPerson`, each person's oldest token only, at most 10,000 people.
     */
    listTokens(
      pageId: string,
      query: { limit?: number; after?: string; onePerPerson?: boolean },
    ): ModelResult<{ data: TokenNode[]; after?: string; hasMore: boolean }> {
      const limit = query.limit ?? 25;
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
        return {
          ok: false,
          error: graphErrors.invalidParameter('param limit must be between 1 and 1000'),
        };
      }
      const rules = own.rules.get(pageId);
      if (query.after === undefined && rules?.refuse !== undefined) {
        return { ok: false, error: refusal(rules.refuse) };
      }
      const overBudget = overReadBudget(pageId);
      if (overBudget) return { ok: false, error: overBudget };
      const all = listed(state, pageId, query.onePerPerson === true);
      let start = 0;
      if (query.after !== undefined) {
        const afterToken = Buffer.from(query.after, 'base64url').toString('utf8');
        const index = all.findIndex((t) => t.token === afterToken);
        if (index < 0) {
          return {
            ok: false,
            error: graphErrors.invalidParameter('param after is not a valid cursor'),
          };
        }
        start = index + 1;
        if (rules?.cutAfterPages !== undefined && start >= rules.cutAfterPages * limit) {
          return { ok: false, error: graphErrors.serviceUnavailable(500) };
        }
      }
      const slice = all.slice(start, start + limit);
      const last = slice.at(-1);
      return {
        ok: true,
        value: {
          data: slice.map((token) => nodeOf(state, token)),
          ...(last && { after: Buffer.from(last.token, 'utf8').toString('base64url') }),
          hasMore: start + limit < all.length,
        },
      };
    },

    /**
     * `POST /{pageId}/messaging_customer_base/unsubscribe`: stops every token of each named
     * person (or the named token) on the Page; a row naming nothing known there is invalid.
     */
    unsubscribe(
      pageId: string,
      rows: readonly UnsubscribeRow[],
    ): ModelResult<{ invalid_rows_count: number }> {
      if (rows.length === 0) {
        return { ok: false, error: graphErrors.invalidParameter('param data must be non-empty') };
      }
      let invalid = 0;
      for (const row of rows) {
        const matches = [...state.tokens.values()].filter(
          (token) =>
            token.pageId === pageId &&
            ((row.psid !== undefined && token.psid === row.psid) ||
              (row.subscriber_token !== undefined && token.token === row.subscriber_token)),
        );
        if (matches.length === 0) invalid++;
        for (const token of matches) token.stopped = true;
      }
      return { ok: true, value: { invalid_rows_count: invalid } };
    },
  };
}

/** The tokens the list names, in creation order. */
function listed(state: ModelState, pageId: string, onePerPerson: boolean): TokenState[] {
  const tokens = [...state.tokens.values()].filter((t) => t.pageId === pageId && !t.stopped);
  if (!onePerPerson) return tokens;
  const seen = new Set<string>();
  const people: TokenState[] = [];
  for (const token of tokens) {
    if (seen.has(token.psid)) continue;
    seen.add(token.psid);
    people.push(token);
    if (people.length === ONE_PER_PERSON_CAP) break;
  }
  return people;
}

/** 1,000 reads an hour per person who wrote to the Page in the last day, at least one. */
function readBudget(state: ModelState, pageId: string, now: number): number {
  let active = 0;
  for (const person of state.people.values()) {
    if (person.pageId === pageId && (person.lastMessageAt ?? -Infinity) > now - DAY_MS) active++;
  }
  return READS_PER_HOUR_PER_USER * Math.max(1, active);
}

/** Meta's token-list read limit, with the wait it names. */
function tokenListRateLimited(remainingSeconds: number): GraphErrorSpec {
  return {
    status: 400,
    code: 2300080,
    type: 'OAuthException',
    reason: 'rate_limited',
    message: '(#2300080) Too many token list requests for this Page. Try again later.',
    errorData: { remaining_seconds: remainingSeconds },
  };
}

/** The error a test asked the first page to answer. */
function refusal(rule: { code: number; subcode?: number }): GraphErrorSpec {
  const transient = rule.code === 1 || rule.code === 2;
  return {
    status: transient ? 500 : 400,
    code: rule.code,
    ...(rule.subcode !== undefined && { subcode: rule.subcode }),
    type: 'OAuthException',
    reason: 'injected',
    ...(transient && { isTransient: true }),
    message: `(#${rule.code}) The token list is refused (simulator rule)`,
  };
}
