import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { LogAttributes } from '@aws-lambda-powertools/logger/types';
import type { Log } from './log.ts';

/**
 * One function's logger, as its composition root needs it: the Powertools `Logger` for the
 * Lambda-context middleware, and the same logger as the `Log` port the domain takes.
 */
export interface FunctionLogger {
  logger: Logger;
  log: Log;
}

/** A JSON logger (Powertools) for one function or runtime part; composition roots create it once. */
export function createLogger(
  serviceName: string,
  logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR',
): FunctionLogger {
  const logger = new Logger({
    serviceName: `recurrent-${serviceName}`,
    ...(logLevel && { logLevel }),
  });
  const level =
    (write: (message: string, ...extra: LogAttributes[]) => void) =>
    (message: string, extra?: Record<string, unknown>) =>
      extra ? write(message, extra as LogAttributes) : write(message);
  return {
    logger,
    log: {
      debug: level(logger.debug.bind(logger)),
      info: level(logger.info.bind(logger)),
      warn: level(logger.warn.bind(logger)),
      error: level(logger.error.bind(logger)),
    },
  };
}

/**
 * A middleware that puts the invocation's request id and cold-start flag on every line
 * `logger` writes; without a logger (tests that read the `Log` port alone) it adds nothing.
 */
export function logLambdaContext(logger: Logger | undefined) {
  return injectLambdaContext(logger ? [logger] : []);
}
