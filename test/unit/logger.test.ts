import { afterEach, describe, expect, it, vi } from 'vitest';
import { fixedClock } from '#lib/clock.ts';
import type { IngestDeps } from '#lib/domain/intake/ingest-delivery.ts';
import { signBody } from '#lib/http/meta-signature.ts';
import { createLogger } from '#lib/logger.ts';
import { createWebhookHandler } from '../../functions/webhook.ts';
import { lambdaContext } from '../../local/api-gateway.ts';
import { anApiEvent } from '../support/api-event.ts';
import { captureStdout } from '../support/capture-log.ts';

const APP_SECRET = 'test-app-secret';

/** A port this delivery never reaches: any call fails the test. */
function unused<T extends object>(name: string): T {
  return new Proxy({} as T, {
    get: (_, method) => () => {
      throw new Error(`${name}.${String(method)} was called`);
    },
  });
}

function webhookWithLogger() {
  const { logger, log } = createLogger('webhook');
  const deps: IngestDeps = {
    archive: { archive: async () => 'new', markApplied: async () => {} },
    deliveries: { recordDelivery: async () => {} },
    stats: { add: async () => {} },
    catalog: unused('catalog'),
    subscriptions: unused('subscriptions'),
    contacts: unused('contacts'),
    tracked: unused('tracked'),
    clock: fixedClock(Date.parse('2026-11-21T09:00:00Z')),
    log,
  };
  return createWebhookHandler(
    { appSecret: APP_SECRET, verifyToken: 'verify', maxBodyBytes: 1024 },
    deps,
    logger,
  );
}

/** A signed delivery of content the intake ignores, and says so in a log line. */
function anIgnoredDelivery() {
  const body = JSON.stringify({ object: 'user', entry: [] });
  return anApiEvent({ body, headers: { 'x-hub-signature-256': signBody(body, APP_SECRET) } });
}

describe('log lines of a handler', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('carry the invocation’s request id and whether it was a cold start', async () => {
    // Lambda sets this; Powertools reports no cold start without it.
    vi.stubEnv('AWS_LAMBDA_INITIALIZATION_TYPE', 'on-demand');
    const handler = webhookWithLogger();
    const first = lambdaContext('webhook', 5_000);
    const second = lambdaContext('webhook', 5_000);

    const lines = await captureStdout(async () => {
      await handler(anIgnoredDelivery(), first);
      await handler(anIgnoredDelivery(), second);
    });

    const ignored = lines.filter((line) => line.message === 'webhook content ignored');
    expect(ignored).toMatchObject([
      {
        service: 'recurrent-webhook',
        function_name: 'webhook',
        function_request_id: first.awsRequestId,
        cold_start: true,
      },
      { function_request_id: second.awsRequestId, cold_start: false },
    ]);
  });
});
