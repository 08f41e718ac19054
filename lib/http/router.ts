import { HttpError } from './http-error.ts';

/** A route: a method and a path pattern whose `{name}` segments become parameters. */
export interface Route<H> {
  method: string;
  /** e.g. `/admin/topics/{topicId}/optin-requests`. */
  path: string;
  handler: H;
}

/** The route a request matched, with its decoded path parameters. */
export interface RouteMatch<H> {
  handler: H;
  params: Record<string, string>;
}

interface CompiledRoute<H> extends Route<H> {
  segments: { literal?: string; param?: string }[];
}

/**
 * Matches requests to routes: an unknown path is 404, a known path with another method is
 * 405 naming the methods it has. A trailing slash is ignored; parameters are URL-decoded.
 */
export function createRouter<H>(routes: readonly Route<H>[]) {
  const compiled: CompiledRoute<H>[] = routes.map((route) => ({
    ...route,
    segments: splitPath(route.path).map((segment) => {
      const param = /^\{(\w+)\}$/.exec(segment)?.[1];
      return param === undefined ? { literal: segment } : { param };
    }),
  }));

  return {
    /** The route for `method` and `path`, or an HttpError (404, 405, 400 for a bad escape). */
    match(method: string, path: string): RouteMatch<H> {
      const segments = splitPath(path);
      const allowed: string[] = [];
      for (const route of compiled) {
        const params = matchSegments(route.segments, segments);
        if (params === undefined) continue;
        if (route.method === method.toUpperCase()) return { handler: route.handler, params };
        allowed.push(route.method);
      }
      if (allowed.length > 0) {
        throw new HttpError(
          405,
          'method_not_allowed',
          `${method} is not allowed on ${path}; use ${allowed.join(' or ')}`,
        );
      }
      throw new HttpError(404, 'not_found', `no route for ${method} ${path}`);
    },
  };
}

function splitPath(path: string): string[] {
  return path.split('/').filter((segment) => segment !== '');
}

function matchSegments(
  pattern: readonly { literal?: string; param?: string }[],
  segments: readonly string[],
): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (const [index, part] of pattern.entries()) {
    const segment = segments[index] ?? '';
    if (part.param === undefined) {
      if (part.literal !== segment) return undefined;
      continue;
    }
    params[part.param] = decodeSegment(segment, part.param);
  }
  return params;
}

function decodeSegment(segment: string, name: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(
      400,
      'invalid_input',
      `${name}: the path segment is not valid URL encoding`,
    );
  }
}
