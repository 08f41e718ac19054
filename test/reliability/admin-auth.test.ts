import { beforeAll, describe, expect, it } from 'vitest';
import { synthesize } from '../cdk/synth.ts';

/**
 * Issue 9, security: on AWS the admin API is behind IAM authorization. Every HTTP API route
 * that can serve a path under /admin (its own, or the catch-all `$default`) must say AWS_IAM;
 * the webhook stays open (Meta's signature is its check). Locally the bearer token does the same
 * (bad-input.test.ts sends every admin route without one).
 */
interface RouteProperties {
  RouteKey: string;
  AuthorizationType?: string;
}

let routes: RouteProperties[];

beforeAll(() => {
  const { template } = synthesize();
  routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map(
    (resource) => resource.Properties as RouteProperties,
  );
});

/** The path of a route key (`ANY /admin/{proxy+}`); `$default` matches any path. */
function pathOf(routeKey: string): string {
  return routeKey === '$default' ? '/' : (routeKey.split(' ')[1] ?? '');
}

describe('the admin API on AWS', () => {
  it('puts every route under /admin, and any catch-all, behind IAM authorization', () => {
    const admin = routes.filter(
      (route) => route.RouteKey === '$default' || pathOf(route.RouteKey).startsWith('/admin'),
    );

    expect(admin.length).toBeGreaterThan(0);
    expect(admin.filter((route) => route.AuthorizationType !== 'AWS_IAM')).toEqual([]);
  });

  it('leaves only the webhook without AWS authorization', () => {
    const open = routes.filter((route) => route.AuthorizationType !== 'AWS_IAM');

    expect(open.map((route) => pathOf(route.RouteKey))).toEqual(open.map(() => '/webhook'));
  });
});
