import * as z from 'zod';
import { InvalidInputError } from '#lib/domain/errors.ts';
import type { FaultConfig, MetaSimulator, RateLimitBurst } from './meta-simulator/index.ts';

/**
 * Fault injection for the built-in Meta simulator, by configuration: `META_SIMULATOR_FAULTS`
 * (JSON) at start, or `POST /_local/simulator/faults` and `/_local/simulator/rate-limit-burst`;
 * `POST /_local/simulator/policy-enforcement` sends Meta's policy webhook for a Page.
 */
const injectedErrorSchema = z.strictObject({
  token: z.string().min(1).optional(),
  pageId: z.string().min(1).optional(),
  route: z
    .enum([
      'optin_request',
      'send_api',
      'standard',
      'marketing_messages',
      'campaign',
      'token_list',
      'token_read',
    ])
    .optional(),
  code: z.number().int(),
  subcode: z.number().int().optional(),
  message: z.string().optional(),
  status: z.number().int().min(400).max(599).optional(),
  times: z.number().int().positive().optional(),
});

export const faultConfigSchema = z.strictObject({
  serverErrorRate: z.number().min(0).max(1).optional(),
  serverErrorStatus: z.union([z.literal(500), z.literal(503), z.literal('mixed')]).optional(),
  latencyMs: z.number().min(0).max(60_000).optional(),
  timeoutRate: z.number().min(0).max(1).optional(),
  hangMs: z.number().min(0).max(120_000).optional(),
  timeoutProcessesRequest: z.boolean().optional(),
  errors: z.array(injectedErrorSchema).optional(),
});

const rateLimitBurstSchema = z.strictObject({
  pageId: z.string().min(1).optional(),
  calls: z.number().int().positive().optional(),
  forMs: z.number().int().positive().optional(),
  regainMinutes: z.number().min(0).optional(),
  code: z.union([z.literal(4), z.literal(32), z.literal(613), z.literal(80006)]).optional(),
});

/** Meta warning, blocking or unblocking a Page (any action, so unknown ones can be sent too). */
const policySchema = z.strictObject({
  pageId: z.string().min(1),
  action: z.string().min(1),
  reason: z.string().optional(),
  key: z.enum(['policy_enforcement', 'policy-enforcement']).optional(),
});

/** Parses fault settings; a bad one is an InvalidInputError naming the field. */
export function parseFaults(input: unknown): FaultConfig {
  return parseWith(faultConfigSchema, input, 'faults') as FaultConfig;
}

/** Applies one control request to the simulator; answers what is now in force. */
export function controlSimulator(
  simulator: MetaSimulator,
  action: string,
  input: unknown,
): unknown {
  if (action === 'faults') {
    simulator.setFaults(parseFaults(input));
    return { faults: simulator.faults() };
  }
  if (action === 'policy-enforcement') {
    const { pageId, ...policy } = parseWith(policySchema, input, 'policy') as z.infer<
      typeof policySchema
    >;
    simulator.policyEnforcement(pageId, policy);
    return { policyEnforcement: 'sent' };
  }
  if (action === 'rate-limit-burst') {
    simulator.rateLimitBurst(parseWith(rateLimitBurstSchema, input, 'burst') as RateLimitBurst);
    return { burst: 'started' };
  }
  throw new InvalidInputError(
    `unknown simulator control '${action}': use faults, rate-limit-burst or policy-enforcement`,
  );
}

function parseWith(schema: z.ZodType, input: unknown, what: string): unknown {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new InvalidInputError(
    `${what}: ${issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'invalid'}`,
  );
}
