import { describe, expect, it } from 'vitest';
import { runCli } from '../../../cli/cli.ts';
import { barChart, shortInstant, table } from '../../../cli/format.ts';
import { executeApiRegion, signForExecuteApi } from '../../../cli/sigv4.ts';

function io(env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: {
      env,
      stdout: (text: string) => out.push(text),
      stderr: (text: string) => err.push(text),
      readStdin: async () => '',
    },
  };
}

describe('CLI output', () => {
  it('aligns table columns under their headers', () => {
    const text = table(
      ['PAGE', 'RATE/S', 'TIMEZONE'],
      [
        ['1001', '20', 'Europe/Paris'],
        ['20022', '300', 'UTC'],
      ],
      ['left', 'right'],
    );

    expect(text.split('\n')).toEqual([
      'PAGE   RATE/S  TIMEZONE',
      '1001       20  Europe/Paris',
      '20022     300  UTC',
    ]);
  });

  it('draws bars in proportion, in eighths of a column, zero as nothing', () => {
    const lines = barChart(
      [
        { label: '2026-11-20', value: 8 },
        { label: '2026-11-21', value: 3 },
        { label: '2026-11-22', value: 0 },
      ],
      4,
    );

    expect(lines).toEqual(['2026-11-20  8  ████', '2026-11-21  3  █▌', '2026-11-22  0']);
  });

  it('shortens instants for tables', () => {
    expect(shortInstant('2026-11-22T08:00:00.000Z')).toBe('2026-11-22 08:00Z');
    expect(shortInstant(null)).toBe('-');
  });
});

describe('CLI arguments', () => {
  it.each([
    [['pages', 'put'], 'pages put needs 1 argument'],
    [['pages', 'list', '--psid', '1'], 'pages list takes no --psid'],
    [['subs', 'list'], 'subs list needs --page'],
    [['erase', '--page', '1'], 'erase needs --psid'],
    [['launch'], 'unknown command: launch'],
    [['stats', '--page'], "Option '--page <value>' argument missing"],
    [['pages', 'list', '--colour'], "Unknown option '--colour'"],
  ])('refuses %j with exit code 2: %s', async (argv, message) => {
    const { io: cli, err } = io();

    const code = await runCli(argv, cli);

    expect(code).toBe(2);
    expect(err.join('')).toContain(message);
  });

  it('prints the usage for --help with exit code 0', async () => {
    const { io: cli, out } = io();

    expect(await runCli(['--help'], cli)).toBe(0);
    expect(out.join('')).toMatch(/^Usage: recurrent <command>/);
    expect(out.join('')).toContain('optin-request --topic <topicId> --psid <psid>');
  });

  it('needs a region to sign for a URL that does not name one', async () => {
    const { io: cli, err } = io();

    const code = await runCli(
      ['pages', 'list', '--aws', '--url', 'https://admin.example.com'],
      cli,
    );

    expect(code).toBe(2);
    expect(err.join('')).toContain('--aws needs --region');
  });
});

describe('SigV4 for deployed stacks', () => {
  it('reads the region of an execute-api URL', () => {
    expect(
      executeApiRegion(new URL('https://a1b2c3.execute-api.eu-west-1.amazonaws.com/admin/')),
    ).toBe('eu-west-1');
    expect(executeApiRegion(new URL('http://localhost:3000'))).toBeUndefined();
  });

  it('signs for execute-api in the region with the given credentials', async () => {
    const url = new URL('https://a1b2c3.execute-api.eu-west-1.amazonaws.com/admin/pages?x=1');

    const headers = await signForExecuteApi(
      { method: 'GET', url, headers: { accept: 'application/json' } },
      'eu-west-1',
      { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'session' },
    );

    expect(headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=accept;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
    );
    expect(headers['x-amz-security-token']).toBe('session');
    expect(headers.host).toBe('a1b2c3.execute-api.eu-west-1.amazonaws.com');
  });
});
