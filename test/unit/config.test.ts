import { describe, expect, it } from 'vitest';
import { resolveMetaSecrets } from '#lib/aws/meta-secrets.ts';
import {
  adminConfigSchema,
  ConfigError,
  readConfig,
  senderConfigSchema,
  webhookConfigSchema,
} from '#lib/config.ts';

// Secrets Manager has no local emulator: this reader stands in for its one call.
const aSecret = (SecretString: string) => () => ({ send: async () => ({ SecretString }) });

describe('readConfig', () => {
  it('names every missing variable', () => {
    expect(() => readConfig(webhookConfigSchema, {})).toThrow(/TABLE_NAME is not set/);
  });

  it('needs either a secret ARN or both secrets', () => {
    expect(() =>
      readConfig(webhookConfigSchema, { TABLE_NAME: 't', META_APP_SECRET: 's' }),
    ).toThrow(/META_SECRET_ARN, or both META_APP_SECRET and META_VERIFY_TOKEN/);
    expect(
      readConfig(webhookConfigSchema, { TABLE_NAME: 't', META_SECRET_ARN: 'arn' }),
    ).toMatchObject({
      MAX_BODY_BYTES: 4 * 1024 * 1024,
    });
  });
});

describe('the sender function configuration', () => {
  it("fills in Meta's Graph API and the staleness limit, and checks the version's shape", () => {
    expect(readConfig(senderConfigSchema, { TABLE_NAME: 't', SEND_QUEUE_URL: 'q' })).toEqual({
      TABLE_NAME: 't',
      SEND_QUEUE_URL: 'q',
      META_GRAPH_URL: 'https://graph.facebook.com',
      META_GRAPH_VERSION: 'v24.0',
      STALE_AFTER_HOURS: 6,
    });
    expect(() =>
      readConfig(senderConfigSchema, {
        TABLE_NAME: 't',
        SEND_QUEUE_URL: 'q',
        META_GRAPH_VERSION: '24',
      }),
    ).toThrow(/META_GRAPH_VERSION: /);
  });
});

describe('the admin function configuration', () => {
  it('names what is missing and fills in the defaults', () => {
    expect(() => readConfig(adminConfigSchema, { TABLE_NAME: 't', SEND_QUEUE_URL: 'q' })).toThrow(
      'FANOUT_FUNCTION_NAME is not set',
    );
    expect(
      readConfig(adminConfigSchema, {
        TABLE_NAME: 't',
        SEND_QUEUE_URL: 'q',
        FANOUT_FUNCTION_NAME: 'fanout',
      }),
    ).toEqual({
      TABLE_NAME: 't',
      SEND_QUEUE_URL: 'q',
      FANOUT_FUNCTION_NAME: 'fanout',
      META_GRAPH_URL: 'https://graph.facebook.com',
      META_GRAPH_VERSION: 'v24.0',
      LOOKBACK_HOURS: 6,
    });
  });
});

describe('resolveMetaSecrets', () => {
  it('reads both secrets from Secrets Manager when an ARN is set', async () => {
    const secrets = await resolveMetaSecrets(
      { META_SECRET_ARN: 'arn:secret' },
      aSecret('{"appSecret":"a","verifyToken":"v"}'),
    );

    expect(secrets).toEqual({ appSecret: 'a', verifyToken: 'v' });
  });

  it('fails with the missing key names, never the values', async () => {
    const reading = resolveMetaSecrets(
      { META_SECRET_ARN: 'arn:secret' },
      aSecret('{"appSecret":"very-secret-value","verifyToken":""}'),
    );

    await expect(reading).rejects.toThrow(ConfigError);
    await expect(reading).rejects.toThrow(/verifyToken/);
    await expect(reading).rejects.not.toThrow(/very-secret-value/);
  });

  it('takes the environment when no ARN is set', async () => {
    const secrets = await resolveMetaSecrets(
      { META_APP_SECRET: 'a', META_VERIFY_TOKEN: 'v' },
      () => {
        throw new Error('Secrets Manager must not be called');
      },
    );

    expect(secrets).toEqual({ appSecret: 'a', verifyToken: 'v' });
  });
});
