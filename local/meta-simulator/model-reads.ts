import { graphErrors } from './graph-errors.ts';
import type { TokenNode } from './meta-events.ts';
import { type ModelState, nodeOf, topicKey, view } from './model-state.ts';
import type { ModelResult, SentMessage, TokenView } from './model-types.ts';

/** Graph's one-token read, and what a test inspects: tokens and accepted messages. */
export function tokenReads(state: ModelState) {
  const { tokens, tokenByTopic, sentLog } = state;
  return {
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
