import * as z from 'zod';

/** Configuration that is missing or malformed; the message names every bad variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and checks environment variables once, failing fast with their names. */
export function readConfig<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined>,
): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const name = issue.path.join('.');
    if (issue.code === 'custom') return issue.message;
    return env[name] === undefined ? `${name} is not set` : `${name}: ${issue.message}`;
  });
  throw new ConfigError(`configuration: ${problems.join('; ')}`);
}

const required = z.string().min(1);

/** What the webhook function needs. */
export const webhookConfigSchema = z
  .object({
    TABLE_NAME: required,
    /** On AWS: a Secrets Manager secret `{"appSecret","verifyToken"}`, read once per cold start. */
    META_SECRET_ARN: required.optional(),
    /** Locally (or without Secrets Manager): the secrets themselves. */
    META_APP_SECRET: required.optional(),
    META_VERIFY_TOKEN: required.optional(),
    MAX_BODY_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .default(4 * 1024 * 1024),
  })
  .refine(
    (env) =>
      env.META_SECRET_ARN !== undefined ||
      (env.META_APP_SECRET !== undefined && env.META_VERIFY_TOKEN !== undefined),
    {
      message: 'set META_SECRET_ARN, or both META_APP_SECRET and META_VERIFY_TOKEN',
      path: ['META_SECRET_ARN'],
    },
  );
export type WebhookConfig = z.infer<typeof webhookConfigSchema>;

/** Where topics' content source secrets are kept on AWS; without a prefix a topic takes no `contentUrl`. */
export const contentSecretEnv = {
  /** Secrets Manager names begin with this: `<prefix><sha256 of pageId#topicId>`. */
  CONTENT_SECRET_PREFIX: required.optional(),
  /** The customer-managed key new secrets are encrypted with (the account's default without). */
  CONTENT_SECRET_KMS_KEY_ID: required.optional(),
};

/** What the fan-out function needs. */
export const fanoutConfigSchema = z.object({
  TABLE_NAME: required,
  /** Set by Lambda: a large run hands its rest to a new invocation of this function. */
  AWS_LAMBDA_FUNCTION_NAME: required,
  SEND_QUEUE_URL: required,
  /** How far back a run looks for slots missed since the last completed run. */
  LOOKBACK_HOURS: z.coerce.number().positive().default(6),
  ...contentSecretEnv,
});
export type FanoutConfig = z.infer<typeof fanoutConfigSchema>;

/** Where Meta's Graph API is, for everything that calls it (sender, admin API, `npm start`). */
export const graphEnv = {
  META_GRAPH_URL: z.url().default('https://graph.facebook.com'),
  META_GRAPH_VERSION: z
    .string()
    .regex(/^v\d+\.\d+$/)
    .default('v24.0'),
};

/** What the sender function needs. */
export const senderConfigSchema = z.object({
  TABLE_NAME: required,
  SEND_QUEUE_URL: required,
  ...graphEnv,
  /** Jobs whose run was scheduled longer ago than this are dropped with a recorded reason. */
  STALE_AFTER_HOURS: z.coerce.number().positive().default(6),
});
export type SenderConfig = z.infer<typeof senderConfigSchema>;

/** What the admin function needs. On AWS, API Gateway's IAM authorizer checks every caller. */
export const adminConfigSchema = z.object({
  TABLE_NAME: required,
  /** Where operator-started fan-out runs queue their jobs. */
  SEND_QUEUE_URL: required,
  /** A fan-out run too big for the admin function is handed to the fan-out function. */
  FANOUT_FUNCTION_NAME: required,
  ...graphEnv,
  LOOKBACK_HOURS: z.coerce.number().positive().default(6),
  /** The dead-letter queues `GET /admin/diagnostics` expects empty. */
  SEND_DLQ_URL: required.optional(),
  SCHEDULE_DLQ_URL: required.optional(),
  FANOUT_FAILURE_QUEUE_URL: required.optional(),
  ...contentSecretEnv,
});
export type AdminConfig = z.infer<typeof adminConfigSchema>;
