import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
} from '@aws-sdk/client-secrets-manager';
import type { ContentSecretKey, ContentSecretStore } from '../domain/content-source.ts';
import { sha256 } from '../hash.ts';
import { newContentSecret } from './dynamo-content-secrets.ts';

/** What is needed of a Secrets Manager client. */
export interface ContentSecretsClient {
  send(
    command: CreateSecretCommand | PutSecretValueCommand | GetSecretValueCommand,
  ): Promise<{ SecretString?: string }>;
}

/**
 * Content source secrets in Secrets Manager, one secret per topic named `<prefix><sha256 of
 * pageId#topicId>` (ids may hold characters a secret name may not): the stack grants the admin
 * function create and put, and the fan-out read, on `<prefix>*` only.
 */
export function secretsManagerContentSecrets(
  client: ContentSecretsClient,
  config: { prefix: string; kmsKeyId?: string },
): ContentSecretStore {
  const nameOf = ({ pageId, topicId }: ContentSecretKey) =>
    `${config.prefix}${sha256(`${pageId}#${topicId}`)}`;
  const putValue = (name: string, secret: string) =>
    client.send(new PutSecretValueCommand({ SecretId: name, SecretString: secret }));
  return {
    async rotate(key) {
      const name = nameOf(key);
      const secret = newContentSecret();
      try {
        await putValue(name, secret);
        return secret;
      } catch (error: unknown) {
        if (!(error instanceof ResourceNotFoundException)) throw error;
      }
      try {
        await client.send(
          new CreateSecretCommand({
            Name: name,
            SecretString: secret,
            Description: `Recurrent: content source secret of topic ${key.topicId} of Page ${key.pageId}`,
            ...(config.kmsKeyId !== undefined && { KmsKeyId: config.kmsKeyId }),
          }),
        );
      } catch (error: unknown) {
        // Made by a racing rotation in between: this value replaces it.
        if (!(error instanceof ResourceExistsException)) throw error;
        await putValue(name, secret);
      }
      return secret;
    },

    async get(key) {
      try {
        const answer = await client.send(new GetSecretValueCommand({ SecretId: nameOf(key) }));
        return answer.SecretString;
      } catch (error: unknown) {
        if (error instanceof ResourceNotFoundException) return undefined;
        throw error;
      }
    },
  };
}
