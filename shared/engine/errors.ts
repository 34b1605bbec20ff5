/**
 * Errors that leave ProcessBundle. Their `name` is what Step Functions
 * matches in Retry/Catch (run.asl.json): `Sluice.Transient` is retried,
 * anything else is caught and fails the run.
 */
export class TransientError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'Sluice.Transient';
  }
}

/** A record error on a node with `onError: fail`: the run fails with it. */
export class RecordError extends Error {
  readonly nodeId: string;
  constructor(nodeId: string, message: string) {
    super(`node ${nodeId}: ${message}`);
    this.name = 'Sluice.RecordFailed';
    this.nodeId = nodeId;
  }
}

/** The run cannot go on (its definition uses something missing, a source vanished). */
export class RunConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Sluice.Configuration';
  }
}

const TRANSIENT_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'SlowDown',
  'TimeoutError',
  'RequestTimeout',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  // MySQL / MariaDB (mysql2's codes): too many connections, shutting down, a lost connection, lock waits.
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'PROTOCOL_CONNECTION_LOST',
  'ER_LOCK_DEADLOCK',
  'ER_LOCK_WAIT_TIMEOUT',
  // PostgreSQL SQLSTATEs: too many connections, shutting down or starting, serialization failure, deadlock,
  // a lock not available, and an object in use (a replication slot still held by an earlier attempt's reader).
  '53300',
  '57P01',
  '57P02',
  '57P03',
  '40001',
  '40P01',
  '55P03',
  '55006',
]);

/** node-postgres reports a connection the server dropped mid-query without a code. */
const TRANSIENT_MESSAGES = new Set(['Connection terminated unexpectedly']);

/** PostgreSQL's class 08: connection exceptions. */
const PG_CONNECTION_EXCEPTION = /^08[0-9A-Z]{3}$/;

/**
 * The server refused the connection's credentials or database: PostgreSQL's wrong password, no
 * pg_hba entry or unknown role, unknown database; MySQL's access denied (to the server or the
 * database) and unknown database. No retry cures these.
 */
const REFUSED_LOGIN = new Set(['28P01', '28000', '3D000', 'ER_ACCESS_DENIED_ERROR', 'ER_DBACCESS_DENIED_ERROR', 'ER_BAD_DB_ERROR']);

/**
 * AWS SDK, network and database errors worth a retry become TransientError; a login the
 * database refuses becomes a RunConfigurationError saying what to check;
 * the rest pass through and fail the run (the engine's own
 * RunConfigurationError, e.g. a CDC source set-up the operator has to fix).
 */
export function classify(error: unknown): unknown {
  if (error instanceof TransientError || error instanceof RecordError || error instanceof RunConfigurationError) return error;
  const e = error as { name?: string; code?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number }; CancellationReasons?: { Code?: string }[] };
  if (REFUSED_LOGIN.has(e?.code ?? '')) {
    // The drivers' messages never carry the password (shared/connections/drivers.ts scrubs them).
    return new RunConfigurationError(`the database server refused the connection: ${(error as Error).message}. Check the connection's username, password and database (PUT on the connection)`);
  }
  const transient =
    TRANSIENT_NAMES.has(e?.name ?? '') ||
    TRANSIENT_NAMES.has(e?.code ?? '') ||
    PG_CONNECTION_EXCEPTION.test(e?.code ?? '') ||
    TRANSIENT_MESSAGES.has((error as Error)?.message ?? '') ||
    Boolean(e?.$retryable) ||
    (e?.$metadata?.httpStatusCode ?? 0) >= 500 ||
    (e?.name === 'TransactionCanceledException' && (e.CancellationReasons ?? []).some((r) => r.Code === 'TransactionConflict' || r.Code === 'ThrottlingError'));
  return transient ? new TransientError(`${e?.name ?? 'Error'}: ${(error as Error)?.message ?? String(error)}`, { cause: error }) : error;
}
