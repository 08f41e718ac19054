import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import {
  type ContentSecretsClient,
  secretsManagerContentSecrets,
} from '#lib/aws/secrets-manager-content-secrets.ts';
import { sha256 } from '#lib/hash.ts';

const PREFIX = 'recurrent/Test/content-source/';
const KEY = { pageId: '1001', topicId: 'daily deals' };
const NAME = `${PREFIX}${sha256('1001#daily deals')}`;
const metadata = { $metadata: {} };

/**
 * Secrets Manager's answers for the three calls, as its API documents them (no emulator of it
 * runs in the tests): a name is made once, a value put onto a missing one is not found.
 */
function secretsManager(options: { createdMeanwhile?: boolean } = {}) {
  const values = new Map<string, string>();
  const calls: { command: string; input: Record<string, unknown> }[] = [];
  const client: ContentSecretsClient = {
    async send(command) {
      const input = command.input as unknown as Record<string, unknown>;
      calls.push({ command: command.constructor.name, input });
      if (command instanceof GetSecretValueCommand) {
        const value = values.get(String(input.SecretId));
        if (value === undefined)
          throw new ResourceNotFoundException({ message: 'no', ...metadata });
        return { SecretString: value };
      }
      if (command instanceof PutSecretValueCommand) {
        if (!values.has(String(input.SecretId)))
          throw new ResourceNotFoundException({ message: 'no', ...metadata });
        values.set(String(input.SecretId), String(input.SecretString));
        return {};
      }
      if (command instanceof CreateSecretCommand) {
        if (options.createdMeanwhile) {
          options.createdMeanwhile = false;
          values.set(String(input.Name), 'a racing value');
        }
        if (values.has(String(input.Name)))
          throw new ResourceExistsException({ message: 'exists', ...metadata });
        values.set(String(input.Name), String(input.SecretString));
        return {};
      }
      throw new Error('not a Secrets Manager call this adapter makes');
    },
  };
  return { client, values, calls };
}

describe('secretsManagerContentSecrets', () => {
  it('creates the secret under the prefix on the first rotation, with the key when given', async () => {
    const sm = secretsManager();
    const store = secretsManagerContentSecrets(sm.client, { prefix: PREFIX, kmsKeyId: 'key-arn' });

    const secret = await store.rotate(KEY);

    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    expect(sm.values.get(NAME)).toBe(secret);
    expect(sm.calls.map((call) => call.command)).toEqual([
      'PutSecretValueCommand',
      'CreateSecretCommand',
    ]);
    expect(sm.calls[1]?.input).toEqual(
      expect.objectContaining({ Name: NAME, KmsKeyId: 'key-arn' }),
    );
    expect(await store.get(KEY)).toBe(secret);
  });

  it('puts a new value on a later rotation', async () => {
    const sm = secretsManager();
    const store = secretsManagerContentSecrets(sm.client, { prefix: PREFIX });
    const first = await store.rotate(KEY);

    const second = await store.rotate(KEY);

    expect(second).not.toBe(first);
    expect(await store.get(KEY)).toBe(second);
    expect(sm.calls.filter((call) => call.command === 'CreateSecretCommand')).toHaveLength(1);
  });

  it('puts its value over a secret a racing rotation created in between', async () => {
    const sm = secretsManager({ createdMeanwhile: true });
    const store = secretsManagerContentSecrets(sm.client, { prefix: PREFIX });

    const secret = await store.rotate(KEY);

    expect(await store.get(KEY)).toBe(secret);
  });

  it('reads a topic without a secret as none', async () => {
    const store = secretsManagerContentSecrets(secretsManager().client, { prefix: PREFIX });

    expect(await store.get(KEY)).toBeUndefined();
  });
});
