import { graphErrors } from './graph-errors.ts';
import type { TokenNode } from './meta-events.ts';
import { type ModelState, nodeOf, topicKey, view } from './model-state.ts';
import type { ModelResult, SentMessage, TokenView } from './model-types.ts';

/** Graph's token reads, and what a test inspects: tokens and accepted messages. */
export function tokenReads(state: ModelState) {
  const { tokens, tokenByTopic, sentLog } = state;
  return {
    /** `GET /{pageId}/notification_message_tokens`: the Page's tokens not stopped, oldest first. */
    listTokens(
      pageId: string,
      query: { limit?: number; after?: string },
    ): ModelResult<{ data: TokenNode[]; after?: string; hasMore: boolean }> {
      const limit = query.limit ?? 25;
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
        return {
          ok: false,
          error: graphErrors.invalidParameter('param limit must be between 1 and 1000'),
        };
      }
      const all = [...tokens.values()].filter((t) => t.pageId === pageId && !t.stopped);
      let start = 0;
      if (query.after !== undefined) {
        const afterToken = Buffer.from(query.after, 'base64url').toString('utf8');
        const index = all.findIndex((t) => t.token === afterToken);
        if (index < 0)
          return {
            ok: false,
            error: graphErrors.invalidParameter('param after is not a valid cursor'),
          };
        start = index + 1;
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

    /** `GET /notification_messages_<TOKEN>`: one token, stopped or not. */
    readToken(value: string): ModelResult<TokenNode & Record<string, unknown>> {
      const token = tokens.get(value);
      if (!token)
        return {
          ok: false,
          error: graphErrors.unknownObject(`notification_messages_${value}`, 'GET'),
        };
      return {
        ok: true,
        value: {
          id: `notification_messages_${token.token}`,
          ...nodeOf(state, token),
          page_id: token.pageId,
          notification_messages_status: token.stopped ? 'STOP NOTIFICATIONS' : 'ACTIVE',
        },
      };
    },

    /** Every token, optionally of one Page. */
    tokens(pageId?: string): TokenView[] {
      return [...tokens.values()]
        .filter((t) => pageId === undefined || t.pageId === pageId)
        .map(view);
    },

    /** The token a person holds for a topic, if any. */
    tokenOf(pageId: string, psid: string, topicId: string): TokenView | undefined {
      const value = tokenByTopic.get(topicKey(pageId, psid, topicId));
      const token = value === undefined ? undefined : tokens.get(value);
      return token && view(token);
    },

    /** Every accepted message, oldest first (copies). */
    sent(): SentMessage[] {
      return sentLog.map((entry) => ({ ...entry }));
    },
  };
}
