import * as z from 'zod';
import type { Call, Request } from './graph-calls.ts';
import { invalid } from './graph-calls.ts';
import type { ModelResult } from './model.ts';

/** The token list's and the Unsubscribe API's requests (META_PLATFORM.md section 7). */

const listParams = z.looseObject({
  limit: z.coerce.number().int().optional(),
  after: z.string().optional(),
  do_not_return_duplicates: z
    .union([z.boolean(), z.enum(['true', 'false']).transform((value) => value === 'true')])
    .optional(),
});

const unsubscribeParams = z.looseObject({
  data: z.array(
    z.looseObject({
      psid: z.coerce.string().optional(),
      subscriber_token: z.string().optional(),
    }),
  ),
});

/** `GET {page}/notification_message_tokens`, with Graph's paging. */
export function tokenListCall({ model, req, url, params, accessToken, method, first }: Request) {
  const pageId = first;
  const parsed = listParams.safeParse(params);
  if (!parsed.success) return invalid(parsed.error);
  const { limit, after, do_not_return_duplicates: onePerPerson } = parsed.data;
  return {
    route: 'token_list',
    usageKey: pageId,
    authorise: () => model.authorisePage(pageId, accessToken, method),
    run: (): ModelResult<unknown> => {
      const listed = model.listTokens(pageId, {
        ...(limit !== undefined && { limit }),
        ...(after !== undefined && { after }),
        ...(onePerPerson !== undefined && { onePerPerson }),
      });
      if (!listed.ok) return listed;
      const { data, after: cursor, hasMore } = listed.value;
      const next = new URL(url);
      if (cursor !== undefined) next.searchParams.set('after', cursor);
      return {
        ok: true,
        value: {
          data,
          paging: {
            cursors: cursor === undefined ? {} : { after: cursor },
            // Graph's `next` is the same request with the new cursor, token included.
            ...(hasMore && {
              next: `http://${req.headers.host ?? '127.0.0.1'}${next.pathname}${next.search}`,
            }),
          },
        },
      };
    },
  } satisfies Call;
}

/** `POST {page}/messaging_customer_base/unsubscribe` `{"data":[{"psid"},{"subscriber_token"}]}`. */
export function unsubscribeCall({ model, params, accessToken, method, first }: Request) {
  const pageId = first;
  const parsed = unsubscribeParams.safeParse(params);
  if (!parsed.success) return invalid(parsed.error);
  const rows = parsed.data.data.map((row) => ({
    ...(row.psid !== undefined && { psid: row.psid }),
    ...(row.subscriber_token !== undefined && { subscriber_token: row.subscriber_token }),
  }));
  return {
    route: 'unsubscribe',
    usageKey: pageId,
    authorise: () => model.authorisePage(pageId, accessToken, method),
    run: () => model.unsubscribe(pageId, rows),
  } satisfies Call;
}
