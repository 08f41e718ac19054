import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Context } from 'aws-lambda';
import { webhookConfigSchema } from '#lib/config.ts';
import { InvalidInputError } from '#lib/domain/errors.ts';
import { json } from '#lib/http/api-gateway.ts';
import type { Log } from '#lib/log.ts';
import {
  type ApiHandler,
  lambdaContext,
  readBody,
  toApiEvent,
  writeApiResult,
} from './api-gateway.ts';
import type { MetaSimulator } from './meta-simulator/index.ts';
import { ClockGoesBackError, type RuntimeClock } from './runtime-clock.ts';
import type { SendPipelineState } from './send-pipeline.ts';
import { controlSimulator } from './simulator-control.ts';

/** The largest request body the server hands to a handler (the webhook's default limit). */
export const MAX_BODY_BYTES = webhookConfigSchema.shape.MAX_BODY_BYTES.parse(undefined);

/** A path prefix of the HTTP server and the Lambda handler behind it. */
export interface Route {
  prefix: string;
  handler: ApiHandler;
  timeoutMs: number;
  name: string;
}

/**
 * The runtime's HTTP server: the handlers' routes as API Gateway would call them, plus `/health`
 * and the local controls (`/_local/clock`, `/_local/pipeline`, `/_local/simulator/*`).
 */
export async function serve(
  port: number,
  routes: readonly Route[],
  parts: {
    clock: RuntimeClock;
    health: () => Promise<void>;
    simulator?: MetaSimulator;
    afterClockMove: () => Promise<void>;
    pipeline: () => Promise<SendPipelineState>;
    log: Log;
  },
): Promise<Server> {
  const server = createServer(async (request, response) => {
    try {
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      if (path === '/health') {
        await parts.health();
        writeApiResult(response, json(200, { status: 'ok' }));
        return;
      }
      if (path === '/_local/clock') {
        writeApiResult(response, await moveClock(request, parts));
        return;
      }
      if (path === '/_local/pipeline') {
        writeApiResult(response, json(200, await parts.pipeline()));
        return;
      }
      if (path.startsWith('/_local/simulator/')) {
        writeApiResult(response, await controlSimulatorRoute(request, path, parts.simulator));
        return;
      }
      const route = routes.find(
        (candidate) => path === candidate.prefix || path.startsWith(`${candidate.prefix}/`),
      );
      if (!route) {
        writeApiResult(
          response,
          json(404, { error: { code: 'not_found', message: `no route for ${path}` } }),
        );
        return;
      }
      const body = await readBody(request, MAX_BODY_BYTES + 1);
      if (body === undefined) {
        writeApiResult(
          response,
          json(413, {
            error: { code: 'body_too_large', message: `body over ${MAX_BODY_BYTES} bytes` },
          }),
        );
        return;
      }
      const event = toApiEvent(request, body, parts.clock.now());
      const context: Context = lambdaContext(route.name, route.timeoutMs);
      writeApiResult(response, await route.handler(event, context));
    } catch (error: unknown) {
      parts.log.error('local request failed', {
        error: error instanceof Error ? error.message : String(error),
      });
      if (!response.headersSent) {
        writeApiResult(
          response,
          json(503, { error: { code: 'unavailable', message: 'a part of the runtime is not up' } }),
        );
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return server;
}

async function moveClock(
  request: IncomingMessage,
  parts: { clock: RuntimeClock; afterClockMove: () => Promise<void> },
) {
  if (request.method !== 'POST') {
    return json(405, {
      error: { code: 'method_not_allowed', message: 'POST {"now": "<ISO instant>"}' },
    });
  }
  const body = (await readBody(request, 10_000)) ?? Buffer.alloc(0);
  let target: number;
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    const now =
      typeof parsed === 'object' && parsed !== null && 'now' in parsed ? parsed.now : undefined;
    target = typeof now === 'number' ? now : Date.parse(String(now));
  } catch {
    target = Number.NaN;
  }
  if (!Number.isFinite(target)) {
    return json(400, {
      error: { code: 'invalid_input', message: 'now: give an ISO instant or epoch milliseconds' },
    });
  }
  try {
    parts.clock.advanceTo(target);
  } catch (error: unknown) {
    if (error instanceof ClockGoesBackError) {
      return json(409, { error: { code: 'clock_goes_back', message: error.message } });
    }
    throw error;
  }
  await parts.afterClockMove();
  return json(200, { now: new Date(parts.clock.now()).toISOString() });
}

async function controlSimulatorRoute(
  request: IncomingMessage,
  path: string,
  simulator: MetaSimulator | undefined,
) {
  if (!simulator) {
    return json(404, {
      error: {
        code: 'no_simulator',
        message: 'META_GRAPH_URL is set: no built-in simulator to control',
      },
    });
  }
  // What it answered and the calls it refused by rule, apart from the faults injected.
  if (path === '/_local/simulator/status' && request.method === 'GET') {
    return json(200, simulator.counters());
  }
  if (request.method !== 'POST') {
    return json(405, { error: { code: 'method_not_allowed', message: 'POST a JSON body' } });
  }
  const body = (await readBody(request, 100_000)) ?? Buffer.alloc(0);
  try {
    const input: unknown = JSON.parse(body.toString('utf8') || '{}');
    return json(200, controlSimulator(simulator, path.slice('/_local/simulator/'.length), input));
  } catch (error: unknown) {
    if (error instanceof InvalidInputError || error instanceof SyntaxError) {
      return json(400, { error: { code: 'invalid_input', message: error.message } });
    }
    throw error;
  }
}

/**
 * Tells the simulator about every Page an operator registers, so Meta (simulated) knows its
 * access token, zone, ad account and campaign exactly as the real one would.
 */
export function mirrorPagesInto(simulator: MetaSimulator, admin: ApiHandler): ApiHandler {
  return async (event, context) => {
    const result = await admin(event, context);
    const match = /^\/admin\/pages\/([^/]+)$/.exec(event.rawPath);
    if (
      event.requestContext.http.method !== 'PUT' ||
      !match?.[1] ||
      (result.statusCode ?? 500) >= 300
    ) {
      return result;
    }
    const body = JSON.parse(event.body ?? '{}') as {
      accessToken?: string;
      timezone?: string;
      adAccountId?: string;
      campaignId?: string;
    };
    const pageId = decodeURIComponent(match[1]);
    if (body.accessToken) {
      const adAccountId = body.adAccountId?.replace(/^act_/, '');
      simulator.addPage({
        id: pageId,
        accessToken: body.accessToken,
        ...(body.timezone && { timezone: body.timezone }),
        // The sender uses the Page's token as the system-user token of the new API.
        ...(adAccountId && { adAccountId, systemUserToken: body.accessToken }),
      });
      if (adAccountId && body.campaignId) {
        simulator.addCampaign({ adAccountId, pageId, id: body.campaignId });
      }
    }
    return result;
  };
}
