import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { httpContentSourceClient } from '../http/content-source-client.ts';
import type { ContentSourceParts } from './fanout-deps.ts';
import { secretsManagerContentSecrets } from './secrets-manager-content-secrets.ts';

/**
 * Content sources on AWS: secrets in Secrets Manager under the stack's prefix, https only.
 * None (no topic takes a `contentUrl`) when the function has no prefix configured.
 */
export function awsContentSources(config: {
  CONTENT_SECRET_PREFIX?: string | undefined;
  CONTENT_SECRET_KMS_KEY_ID?: string | undefined;
}): ContentSourceParts | undefined {
  const prefix = config.CONTENT_SECRET_PREFIX;
  if (prefix === undefined) return undefined;
  const kmsKeyId = config.CONTENT_SECRET_KMS_KEY_ID;
  return {
    client: httpContentSourceClient(),
    secrets: secretsManagerContentSecrets(new SecretsManagerClient({ maxAttempts: 3 }), {
      prefix,
      ...(kmsKeyId !== undefined && { kmsKeyId }),
    }),
    allowLoopbackHttp: false,
  };
}
