import { z } from 'zod';

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
    return env[name] === undefined ? `${name} is not set` : `${name}: ${issue.message}`;
  });
  throw new ConfigError(`configuration: ${problems.join('; ')}`);
}

const required = z.string().min(1);

/** What the webhook function needs. */
export const webhookConfigSchema = z.object({
  TABLE_NAME: required,
  META_APP_SECRET: required,
  META_VERIFY_TOKEN: required,
  MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(4 * 1024 * 1024),
});
export type WebhookConfig = z.infer<typeof webhookConfigSchema>;
