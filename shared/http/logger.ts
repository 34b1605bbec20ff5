import type { Logger } from '@aws-lambda-powertools/logger';

let powertools: Promise<Logger> | undefined;
const load = () =>
  (powertools ??= import('@aws-lambda-powertools/logger').then(({ Logger }) => new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'sluice' })));

type Extra = Record<string, unknown> | Error;

/**
 * Structured JSON logging through Powertools, loaded on the first log line:
 * most requests never log, so no handler pays for the logger at cold start.
 * The line is written within the same invocation (the import is bundled, so
 * it resolves in a microtask).
 */
export const logger = {
  error: (message: string, extra?: Extra) => void load().then((l) => (extra ? l.error(message, extra as never) : l.error(message))),
  warn: (message: string, extra?: Extra) => void load().then((l) => (extra ? l.warn(message, extra as never) : l.warn(message))),
  info: (message: string, extra?: Extra) => void load().then((l) => (extra ? l.info(message, extra as never) : l.info(message))),
};
