import * as path from 'node:path';
import { type Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import {
  NodejsFunction,
  type NodejsFunctionProps,
  OutputFormat,
  SourceMapMode,
} from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/** The repository root: handlers live in `functions/`, the lock file and tsconfig here. */
const PROJECT_ROOT = path.resolve(import.meta.dirname, '..');

/** The handler module of one Lambda: `functions/<name>.ts`, exporting `handler`. */
export function handlerEntry(name: string): string {
  return path.join(PROJECT_ROOT, 'functions', `${name}.ts`);
}

/** Lets the bundled ESM code load the CommonJS dependencies that still call `require`. */
const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

/** What is left to say about a function once the defaults are fixed. */
export interface RecurrentFunctionProps
  extends Pick<
    NodejsFunctionProps,
    'description' | 'onFailure' | 'retryAttempts' | 'maxEventAge' | 'reservedConcurrentExecutions'
  > {
  /** Absolute path of the handler module (see `handlerEntry`). */
  readonly entry: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  /** The variables the handler's config schema reads; `NODE_OPTIONS` is added. */
  readonly environment: Readonly<Record<string, string>>;
  /** How long the function's log group keeps events. */
  readonly logRetention: logs.RetentionDays;
  /**
   * Bundle the handler with esbuild (`true`), or deploy a stub that only throws (`false`):
   * for tests that look at the template and not the code.
   */
  readonly bundle: boolean;
}

/**
 * A Lambda function with the project's defaults fixed: Node.js 24 on arm64, JSON logs to its
 * own log group with a retention, source maps, and an ESM bundle made by the local esbuild
 * (never Docker) with the AWS SDK v3 left to the runtime. Its role starts with nothing but
 * writing to that log group: every other permission is granted explicitly.
 */
export class RecurrentFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: RecurrentFunctionProps) {
    const { entry, bundle, logRetention, environment, ...rest } = props;
    // Built before `super` (scoped to the parent) so the function can be given both.
    const logGroup = new logs.LogGroup(scope, `${id}LogGroup`, {
      retention: logRetention,
      // Logs have their retention; a retained group would outlive the stack for nothing.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${id} function: log writing plus explicit grants`,
    });
    logGroup.grantWrite(role);
    super(scope, id, {
      ...rest,
      role,
      logGroup,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.INFO,
      environment: { ...environment, NODE_OPTIONS: '--enable-source-maps' },
      ...(bundle
        ? {
            entry,
            handler: 'handler',
            projectRoot: PROJECT_ROOT,
            depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
            bundling: {
              forceDockerBundling: false,
              format: OutputFormat.ESM,
              banner: ESM_REQUIRE_BANNER,
              mainFields: ['module', 'main'],
              minify: true,
              sourceMap: true,
              sourceMapMode: SourceMapMode.DEFAULT,
              sourcesContent: false,
              externalModules: ['@aws-sdk/*'],
              esbuildArgs: { '--tree-shaking': 'true' },
            },
          }
        : {
            code: lambda.Code.fromInline(
              "exports.handler = async () => { throw new Error('test stub: not bundled'); };",
            ),
            handler: 'index.handler',
          }),
    });
  }
}

/** What every function of the construct shares. */
export interface FunctionDefaults {
  bundle: boolean;
  logRetention: logs.RetentionDays;
}
