import type { Logger } from '@aws-lambda-powertools/logger';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import middy from '@middy/core';
import { createDynamoClient } from '#lib/aws/clients.ts';
import { resolveMetaSecrets } from '#lib/aws/meta-secrets.ts';
import { webhookDeps } from '#lib/aws/webhook-deps.ts';
import { systemClock } from '#lib/clock.ts';
import { readConfig, webhookConfigSchema } from '#lib/config.ts';
import { type IngestDeps, ingestDelivery } from '#lib/domain/intake/ingest-delivery.ts';
import { answerHandshake } from '#lib/domain/intake/meta-handshake.ts';
import { sha256 } from '#lib/hash.ts';
import {
  type ApiEventWithRawBody,
  type ApiResult,
  json,
  rawBytes,
  text,
} from '#lib/http/api-gateway.ts';
import { errorResponse } from '#lib/http/error-response.ts';
import { HttpError } from '#lib/http/http-error.ts';
import { metaSignature } from '#lib/http/meta-signature.ts';
import { rawBody } from '#lib/http/raw-body.ts';
import { lazyHandler } from '#lib/lambda.ts';
import { createLogger, logLambdaContext } from '#lib/logger.ts';

export interface WebhookOptions {
  appSecret: string;
  verifyToken: string;
  maxBodyBytes: number;
}

/**
 * Meta's webhook: the verification handshake (GET) and signed deliveries (POST). `logger` is
 * the Powertools logger behind `deps.log`, whose lines then carry the invocation's request id.
 */
export function createWebhookHandler(options: WebhookOptions, deps: IngestDeps, logger?: Logger) {
  return middy<ApiEventWithRawBody, ApiResult>()
    .use(logLambdaContext(logger))
    .use(errorResponse(deps.log))
    .use(rawBody({ maxBytes: options.maxBodyBytes }))
    .use(metaSignature({ appSecret: options.appSecret }))
    .handler(async (event) => {
      const method = event.requestContext.http.method;
      if (method === 'GET') {
        const challenge = answerHandshake(event.queryStringParameters ?? {}, options.verifyToken);
        if (challenge === undefined) throw new HttpError(403, 'forbidden', 'verify token mismatch');
        return text(200, challenge);
      }
      if (method !== 'POST') {
        throw new HttpError(405, 'method_not_allowed', `${method} is not allowed; use GET or POST`);
      }
      const bytes = rawBytes(event);
      const result = await ingestDelivery(
        { body: bytes.toString('utf8'), hash: sha256(bytes) },
        deps,
      );
      return json(200, { received: true, ...result });
    });
}

/** Lambda entry: configuration and secrets read and checked once per cold start. */
export const handler = lazyHandler(async () => {
  const config = readConfig(webhookConfigSchema, process.env);
  const secrets = await resolveMetaSecrets(config, () => new SecretsManagerClient({}));
  const { logger, log } = createLogger('webhook');
  const deps = webhookDeps(createDynamoClient(), config.TABLE_NAME, { clock: systemClock, log });
  return createWebhookHandler({ ...secrets, maxBodyBytes: config.MAX_BODY_BYTES }, deps, logger);
});
