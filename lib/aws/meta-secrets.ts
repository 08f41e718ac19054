import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';
import { ConfigError } from '../config.ts';

/** The Meta app's secrets, as stored in one Secrets Manager secret. */
const metaSecretsSchema = z.object({
  appSecret: z.string().min(1, 'appSecret is empty'),
  verifyToken: z.string().min(1, 'verifyToken is empty'),
});
export type MetaSecrets = z.infer<typeof metaSecretsSchema>;

/** What is needed of a Secrets Manager client. */
export interface SecretReader {
  send(command: GetSecretValueCommand): Promise<{ SecretString?: string }>;
}

/** The secrets from Secrets Manager when an ARN is configured, else from the environment. */
export async function resolveMetaSecrets(
  config: { META_SECRET_ARN?: string; META_APP_SECRET?: string; META_VERIFY_TOKEN?: string },
  secretsManager: () => SecretReader,
): Promise<MetaSecrets> {
  if (config.META_SECRET_ARN) return loadMetaSecrets(secretsManager(), config.META_SECRET_ARN);
  if (config.META_APP_SECRET && config.META_VERIFY_TOKEN) {
    return { appSecret: config.META_APP_SECRET, verifyToken: config.META_VERIFY_TOKEN };
  }
  throw new ConfigError('set META_SECRET_ARN, or both META_APP_SECRET and META_VERIFY_TOKEN');
}

/** Reads the secret once; a missing or malformed one fails the cold start with its key names. */
export async function loadMetaSecrets(
  client: SecretReader,
  secretArn: string,
): Promise<MetaSecrets> {
  const answer = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.SecretString ?? '');
  } catch {
    throw new ConfigError(
      'the Meta secret is not JSON: store {"appSecret": "...", "verifyToken": "..."}',
    );
  }
  const secrets = metaSecretsSchema.safeParse(parsed);
  if (!secrets.success) {
    throw new ConfigError(
      `the Meta secret: ${secrets.error.issues.map((issue) => issue.path.join('.') || issue.message).join(', ')} missing or empty`,
    );
  }
  return secrets.data;
}
