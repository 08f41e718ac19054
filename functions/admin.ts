import type { Logger } from '@aws-lambda-powertools/logger';
import { LambdaClient } from '@aws-sdk/client-lambda';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { adminDeps } from '#lib/aws/admin-deps.ts';
import { createDynamoClient, createSqsClient } from '#lib/aws/clients.ts';
import { awsContentSources } from '#lib/aws/content-source-parts.ts';
import { lambdaContinuations } from '#lib/aws/lambda-continuations.ts';
import { watchedQueues } from '#lib/aws/sqs-queue-depths.ts';
import { systemClock } from '#lib/clock.ts';
import { adminConfigSchema, readConfig } from '#lib/config.ts';
import {
  cancelBroadcast,
  createBroadcast,
  listBroadcasts,
  parseCancelBroadcast,
  parseCreateBroadcast,
  parseListBroadcasts,
} from '#lib/domain/admin/broadcasts.ts';
import { parseRotateContentSecret, rotateContentSecret } from '#lib/domain/admin/content-secret.ts';
import { parseDiagnostics, runDiagnostics } from '#lib/domain/admin/diagnostics.ts';
import {
  deleteEdition,
  getEdition,
  listEditions,
  parseEdition,
  parseListEditions,
  parsePutEdition,
  putEdition,
} from '#lib/domain/admin/editions.ts';
import { eraseContact, parseEraseContact } from '#lib/domain/admin/erase-contact.ts';
import type { AdminRequest } from '#lib/domain/admin/input.ts';
import { parseOptInRequest, requestOptIn } from '#lib/domain/admin/optin-request.ts';
import { listPages, parsePutPage, putPage } from '#lib/domain/admin/pages.ts';
import type { AdminDeps } from '#lib/domain/admin/ports.ts';
import { parseReconcile, reconcilePage } from '#lib/domain/admin/reconcile.ts';
import { parseResumeTopic, resumeTopic } from '#lib/domain/admin/resume-topic.ts';
import { parseAdminFanout, runAdminFanout } from '#lib/domain/admin/run-fanout-now.ts';
import {
  isReconcileSchedule,
  parseReconcileSchedule,
  runScheduledReconcile,
  type ScheduledReconcileResult,
} from '#lib/domain/admin/scheduled-reconcile.ts';
import { parseStats, readStats } from '#lib/domain/admin/stats.ts';
import { listSubscriptions, parseListSubscriptions } from '#lib/domain/admin/subscriptions.ts';
import { listTopics, parseListTopics, parsePutTopic, putTopic } from '#lib/domain/admin/topics.ts';
import { graphClient } from '#lib/graph/graph-client.ts';
import { type ApiEventWithRawBody, type ApiResult, json, rawBytes } from '#lib/http/api-gateway.ts';
import { bearerAuth } from '#lib/http/bearer-auth.ts';
import { errorResponse } from '#lib/http/error-response.ts';
import { parseJsonBody } from '#lib/http/json-body.ts';
import { rawBody } from '#lib/http/raw-body.ts';
import { createRouter } from '#lib/http/router.ts';
import { lazyHandler } from '#lib/lambda.ts';
import { createLogger, logLambdaContext } from '#lib/logger.ts';

export interface AdminOptions {
  /** When set (the local runtime), every request must carry `Authorization: Bearer <it>`. */
  adminToken?: string;
  /** @default 256 KiB */
  maxBodyBytes?: number;
}

type AdminRoute = (request: AdminRequest, timeLeft: () => number) => Promise<unknown>;

/** A route's answer that created something: sent as 201 instead of 200. */
class Created {
  readonly body: unknown;
  constructor(body: unknown) {
    this.body = body;
  }
}

/**
 * The operators' API under /admin: each route parses its input and calls one use case.
 * `logger` is the Powertools logger behind `deps.log`, whose lines then carry the request id.
 */
export function createAdminHandler(options: AdminOptions, deps: AdminDeps, logger?: Logger) {
  const router = createRouter<AdminRoute>([
    { method: 'GET', path: '/admin/pages', handler: () => listPages(deps) },
    {
      method: 'PUT',
      path: '/admin/pages/{pageId}',
      handler: (r) => putPage(parsePutPage(r), deps),
    },
    {
      method: 'POST',
      path: '/admin/pages/{pageId}/reconcile',
      handler: (r, timeLeft) => reconcilePage(parseReconcile(r), deps, timeLeft),
    },
    { method: 'GET', path: '/admin/topics', handler: (r) => listTopics(parseListTopics(r), deps) },
    {
      method: 'PUT',
      path: '/admin/topics/{topicId}',
      handler: (r, timeLeft) => putTopic(parsePutTopic(r), deps, timeLeft),
    },
    {
      method: 'POST',
      path: '/admin/topics/{topicId}/resume',
      handler: (r) => resumeTopic(parseResumeTopic(r), deps),
    },
    {
      method: 'POST',
      path: '/admin/topics/{topicId}/optin-requests',
      handler: (r) => requestOptIn(parseOptInRequest(r), deps),
    },
    {
      method: 'GET',
      path: '/admin/subscriptions',
      handler: (r) => listSubscriptions(parseListSubscriptions(r), deps),
    },
    {
      method: 'POST',
      path: '/admin/fanout',
      handler: (r, timeLeft) => runAdminFanout(parseAdminFanout(r), deps, timeLeft),
    },
    { method: 'GET', path: '/admin/stats', handler: (r) => readStats(parseStats(r), deps) },
    {
      method: 'GET',
      path: '/admin/diagnostics',
      handler: (r) => runDiagnostics(parseDiagnostics(r), deps),
    },
    {
      method: 'DELETE',
      path: '/admin/contacts/{pageId}/{psid}',
      handler: (r) => eraseContact(parseEraseContact(r), deps),
    },
    {
      method: 'GET',
      path: '/admin/topics/{topicId}/editions',
      handler: (r) => listEditions(parseListEditions(r), deps),
    },
    {
      method: 'PUT',
      path: '/admin/topics/{topicId}/editions/{date}',
      handler: (r) => putEdition(parsePutEdition(r), deps),
    },
    {
      method: 'GET',
      path: '/admin/topics/{topicId}/editions/{date}',
      handler: (r) => getEdition(parseEdition(r), deps),
    },
    {
      method: 'DELETE',
      path: '/admin/topics/{topicId}/editions/{date}',
      handler: (r) => deleteEdition(parseEdition(r), deps),
    },
    {
      method: 'POST',
      path: '/admin/topics/{topicId}/content-secret',
      handler: (r) => rotateContentSecret(parseRotateContentSecret(r), deps),
    },
    {
      method: 'POST',
      path: '/admin/topics/{topicId}/broadcasts',
      handler: async (r, timeLeft) =>
        new Created(await createBroadcast(parseCreateBroadcast(r), deps, timeLeft)),
    },
    {
      method: 'GET',
      path: '/admin/topics/{topicId}/broadcasts',
      handler: (r) => listBroadcasts(parseListBroadcasts(r), deps),
    },
    {
      method: 'DELETE',
      path: '/admin/topics/{topicId}/broadcasts/{broadcastId}',
      handler: (r) => cancelBroadcast(parseCancelBroadcast(r), deps),
    },
  ]);
  return middy<ApiEventWithRawBody, ApiResult, Error, Context>()
    .use(logLambdaContext(logger))
    .use(errorResponse(deps.log))
    .use(bearerAuth({ token: options.adminToken }))
    .use(rawBody({ maxBytes: options.maxBodyBytes ?? 256 * 1024 }))
    .handler(async (event, context) => {
      const route = router.match(event.requestContext.http.method, event.rawPath);
      const request: AdminRequest = {
        params: route.params,
        query: event.queryStringParameters ?? {},
        body: parseJsonBody(rawBytes(event)),
      };
      const timeLeft = () =>
        typeof context.getRemainingTimeInMillis === 'function'
          ? context.getRemainingTimeInMillis()
          : Number.POSITIVE_INFINITY;
      const answer = await route.handler(request, timeLeft);
      return answer instanceof Created ? json(201, answer.body) : json(200, answer);
    });
}

/**
 * The reconcile schedule's tick `{"reconcile":"daily","scheduledTime"}`. The schedule invokes
 * the admin function directly: it already holds every grant the reconcile needs (the token
 * list, subscriptions, erasure records), so no other role grows.
 */
export function createReconcileScheduleHandler(deps: AdminDeps, logger?: Logger) {
  return middy<unknown, ScheduledReconcileResult, Error, Context>()
    .use(logLambdaContext(logger))
    .handler((event, context) =>
      runScheduledReconcile(parseReconcileSchedule(event), deps, () =>
        context.getRemainingTimeInMillis(),
      ),
    );
}

/** Lambda entry: configuration from the environment, checked once per cold start. */
export const handler = lazyHandler(() => {
  const config = readConfig(adminConfigSchema, process.env);
  const { logger, log } = createLogger('admin');
  const deps = adminDeps(
    { dynamo: createDynamoClient(), sqs: createSqsClient() },
    {
      table: config.TABLE_NAME,
      queueUrl: config.SEND_QUEUE_URL,
      lookbackHours: config.LOOKBACK_HOURS,
      deadLetterQueues: watchedQueues({
        send: config.SEND_DLQ_URL,
        schedule: config.SCHEDULE_DLQ_URL,
        'fanout-failure': config.FANOUT_FAILURE_QUEUE_URL,
      }),
    },
    {
      graph: graphClient({ baseUrl: config.META_GRAPH_URL, version: config.META_GRAPH_VERSION }),
      clock: systemClock,
      log,
      continuations: lambdaContinuations(new LambdaClient({}), config.FANOUT_FUNCTION_NAME),
      contentSources: awsContentSources(config),
    },
  );
  // API Gateway's IAM authorizer has checked the caller: no bearer token on AWS.
  const http = createAdminHandler({}, deps, logger);
  const scheduled = createReconcileScheduleHandler(deps, logger);
  return (event: unknown, context: Context): Promise<ApiResult | ScheduledReconcileResult> =>
    isReconcileSchedule(event)
      ? scheduled(event, context)
      : http(event as ApiEventWithRawBody, context);
});
