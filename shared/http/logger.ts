import type { Logger } from '@aws-lambda-powertools/logger';

let powertools: Promise<Logger> | undefined;
const load = () =>
  (powertools ??= import('@aws-lambda-powertools/logger').then(({ Logger }) => new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'sluice' })));

type Extra = Record<string, unknown> | Error;
type Level = 'error' | 'warn' | 'info';

const log = (level: Level) => async (message: string, extra?: Extra): Promise<void> => {
  const l = await load();
  if (extra) l[level](message, extra as never);
  else l[level](message);
};

/**
 * Structured JSON logging through Powertools, loaded on the first log line:
 * most requests never log, so no handler pays for the logger at cold start.
 * The logger is a chunk of its own, read from disk on first use, so callers
 * await the line: Lambda may freeze the process once the handler returns.
 */
export const logger = { error: log('error'), warn: log('warn'), info: log('info') };
