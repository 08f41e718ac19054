import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import * as esbuild from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handlerEntry } from '../../cdk/function.ts';
import type { RecurringNotifications } from '../../cdk/recurring-notifications.ts';
import { actionsOf, buildStack, logicalId, statementsOf } from './synth.ts';

const FUNCTIONS = ['webhook', 'fanout', 'sender', 'admin'] as const;
type FunctionName = (typeof FUNCTIONS)[number];

/** Large enough for today's bundles (about 220 KiB), small enough to catch a stray dependency. */
const MAX_BUNDLE_BYTES = 512 * 1024;

/** The IAM action each AWS SDK command or paginator in our code needs. */
const ACTION_OF: Readonly<Record<string, string>> = {
  GetCommand: 'dynamodb:GetItem',
  BatchGetCommand: 'dynamodb:BatchGetItem',
  PutCommand: 'dynamodb:PutItem',
  // DynamoDB checks each item's own action; the admin API's transactions only put.
  TransactWriteCommand: 'dynamodb:PutItem',
  UpdateCommand: 'dynamodb:UpdateItem',
  DeleteCommand: 'dynamodb:DeleteItem',
  BatchWriteCommand: 'dynamodb:BatchWriteItem',
  QueryCommand: 'dynamodb:Query',
  paginateQuery: 'dynamodb:Query',
  ScanCommand: 'dynamodb:Scan',
  paginateScan: 'dynamodb:Scan',
  SendMessageCommand: 'sqs:SendMessage',
  SendMessageBatchCommand: 'sqs:SendMessage',
  ChangeMessageVisibilityCommand: 'sqs:ChangeMessageVisibility',
  ChangeMessageVisibilityBatchCommand: 'sqs:ChangeMessageVisibility',
  DeleteMessageBatchCommand: 'sqs:DeleteMessage',
  GetQueueAttributesCommand: 'sqs:GetQueueAttributes',
  InvokeCommand: 'lambda:InvokeFunction',
  GetSecretValueCommand: 'secretsmanager:GetSecretValue',
  CreateSecretCommand: 'secretsmanager:CreateSecret',
  PutSecretValueCommand: 'secretsmanager:PutSecretValue',
};

/**
 * Commands that a function's modules contain but that function never calls, so it is not
 * granted them. A module is bundled whole when any of its exports is used.
 */
const NOT_CALLED: Readonly<Record<FunctionName, readonly string[]>> = {
  // dynamo-catalog's putPage and putTopic are the admin API's.
  webhook: ['TransactWriteCommand'],
  // dynamo-catalog's writes are the admin API's; the send queue's deferrals are the sender's.
  // Content secrets are made and replaced (CreateSecret, PutSecretValue) by the admin API only.
  fanout: [
    'PutCommand',
    'TransactWriteCommand',
    'ChangeMessageVisibilityBatchCommand',
    'CreateSecretCommand',
    'PutSecretValueCommand',
  ],
  // dynamo-catalog's writes, and the send queue's enqueue (fan-out). It Queries a person's
  // partition (paginateQuery) and BatchWrites kept MM sends.
  sender: ['PutCommand', 'TransactWriteCommand', 'SendMessageBatchCommand'],
  // The admin API calls everything its modules hold but the send queue's deferrals (sender).
  admin: ['ChangeMessageVisibilityBatchCommand'],
};

/** The AWS SDK commands and paginators our own modules of a handler's bundle construct. */
async function commandsUsedBy(name: FunctionName): Promise<Set<string>> {
  const root = path.resolve(import.meta.dirname, '../..');
  const result = await esbuild.build({
    entryPoints: [handlerEntry(name)],
    absWorkingDir: root,
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    external: ['@aws-sdk/*'],
    logLevel: 'silent',
  });
  const commands = new Set<string>();
  for (const input of Object.keys(result.metafile.inputs)) {
    if (!/^(lib|functions)\//.test(input)) continue;
    const source = readFileSync(path.join(root, input), 'utf8');
    for (const match of source.matchAll(/new (\w+Command)\(|\b(paginate\w+)\(/g)) {
      const command = match[1] ?? match[2];
      if (command) commands.add(command);
    }
  }
  return commands;
}

describe('the synthesized app with real bundles', () => {
  let outdir: string;
  let template: Template;
  let recurrent: RecurringNotifications;
  let assetDirOf: (name: FunctionName) => string;
  let stack: ReturnType<typeof buildStack>['stack'];

  beforeAll(() => {
    // Inside the project so that the bundles' external `@aws-sdk/*` imports resolve.
    const cdkOut = path.resolve(import.meta.dirname, '../../cdk.out');
    mkdirSync(cdkOut, { recursive: true });
    outdir = mkdtempSync(path.join(cdkOut, 'test-bundles-'));
    const built = buildStack({ recurrent: { bundle: true } }, outdir);
    stack = built.stack;
    recurrent = built.stack.recurrent;
    // As cdk/app.ts does: an unacknowledged finding fails the synthesis.
    Validations.of(built.app).addPlugins(new AwsSolutionsChecks(built.app));
    built.app.synth();
    template = Template.fromStack(built.stack);
    assetDirOf = (name) => {
      const code = template.toJSON().Resources[logicalId(stack, recurrent[name])].Properties.Code;
      const hash = String(code.S3Key).replace(/\.zip$/, '');
      return path.join(outdir, `asset.${hash}`);
    };
  });

  afterAll(() => {
    rmSync(outdir, { recursive: true, force: true });
  });

  it.each(FUNCTIONS)('bundles %s as one minified ESM file with its source map', (name) => {
    const dir = assetDirOf(name);
    expect(readdirSync(dir).sort()).toEqual(['index.mjs', 'index.mjs.map']);
    const code = readFileSync(path.join(dir, 'index.mjs'), 'utf8');
    expect(
      code.startsWith(
        "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      ),
    ).toBe(true);
    expect(statSync(path.join(dir, 'index.mjs')).size).toBeLessThan(MAX_BUNDLE_BYTES);
    // The AWS SDK v3 comes from the runtime: imported, not bundled.
    expect(code).toMatch(/from\s*"@aws-sdk\//);
    expect(code).not.toMatch(/node_modules\/@aws-sdk/);
    const handler =
      template.toJSON().Resources[logicalId(stack, recurrent[name])].Properties.Handler;
    expect(handler).toBe('index.handler');
  });

  it.each(FUNCTIONS)('loads the %s bundle on Node.js and finds its handler', (name) => {
    const url = pathToFileURL(path.join(assetDirOf(name), 'index.mjs')).href;
    const probe = `const m = await import(${JSON.stringify(url)}); process.stdout.write(typeof m.handler);`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', probe], {
      encoding: 'utf8',
      env: { ...process.env, AWS_REGION: 'us-east-1' },
    });
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('function');
  });

  it.each(FUNCTIONS)('grants %s every AWS action its code calls', async (name) => {
    const role = recurrent[name].role;
    if (!role) throw new Error(`${name} has no role`);
    const granted = new Set(actionsOf(statementsOf(template, logicalId(stack, role))));
    const commands = await commandsUsedBy(name);
    expect(commands.size).toBeGreaterThan(0);
    for (const command of commands) {
      if (NOT_CALLED[name].includes(command)) continue;
      const action = ACTION_OF[command];
      expect(action, `${command} has no known IAM action: add it to ACTION_OF`).toBeDefined();
      expect(granted, `${name} calls ${command}`).toContain(action);
    }
  });
});
