import { Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes } from '@aws-lambda-powertools/logger/types';
import type { Log } from './log.ts';

/** A JSON logger (Powertools) for one function or runtime part; composition roots create it once. */
export function createLogger(
  serviceName: string,
  logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR',
): Log {
  const logger = new Logger({
    serviceName: `recurrent-${serviceName}`,
    ...(logLevel && { logLevel }),
  });
  const level =
    (write: (message: string, ...extra: LogAttributes[]) => void) =>
    (message: string, extra?: Record<string, unknown>) =>
      extra ? write(message, extra as LogAttributes) : write(message);
  return {
    debug: level(logger.debug.bind(logger)),
    info: level(logger.info.bind(logger)),
    warn: level(logger.warn.bind(logger)),
    error: level(logger.error.bind(logger)),
  };
}
