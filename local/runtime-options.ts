import type { Logger } from '@aws-lambda-powertools/logger';
import type { Log } from '#lib/log.ts';
import type { FaultConfig, MetaSimulatorOptions } from './meta-simulator/index.ts';
import type { CatchUp } from './scheduler.ts';

/** Everything the one-machine runtime needs; `local/start.ts` reads it from the environment. */
export interface RuntimeOptions {
  port: number;
  appSecret: string;
  verifyToken: string;
  adminToken: string;
  /** Meta's Graph API; when absent the built-in Meta simulator is started and used. */
  graphUrl?: string;
  graphVersion: string;
  /** DynamoDB Local and queue files; in memory when absent. */
  dataDir?: string;
  clockStart?: number;
  clockSpeed: number;
  log: Log;
  /**
   * The Powertools logger behind `log`, when it has one: handler lines then carry the request
   * id of the local invocation (of the last one to start, when several run at once).
   */
  logger?: Logger;
  /** Names of the local table and queues. */
  tableName?: string;
  /** Faults the built-in simulator injects from the start. */
  simulatorFaults?: FaultConfig;
  /** How the built-in simulator sends marketing status webhooks (delays, chances, shape). */
  simulatorMarketingStatus?: MetaSimulatorOptions['marketingStatus'];
  /**
   * Use the DynamoDB and SQS endpoints already in `AWS_ENDPOINT_URL_*` instead of starting
   * emulators (tests share one pair; each runtime then needs its own `tableName`).
   */
  useRunningEmulators?: boolean;
  /** Graph answer timeout of the sender and the admin API; the client's default when absent. */
  graphTimeoutMs?: number;
  /** What a clock jump fires of the schedules it passed; every run when absent. */
  scheduleCatchUp?: CatchUp;
}
