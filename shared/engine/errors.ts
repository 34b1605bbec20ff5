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
]);

/** AWS SDK and network errors worth a retry become TransientError; the rest pass through. */
export function classify(error: unknown): unknown {
  if (error instanceof TransientError || error instanceof RecordError || error instanceof RunConfigurationError) return error;
  const e = error as { name?: string; code?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number }; CancellationReasons?: { Code?: string }[] };
  const transient =
    TRANSIENT_NAMES.has(e?.name ?? '') ||
    TRANSIENT_NAMES.has(e?.code ?? '') ||
    Boolean(e?.$retryable) ||
    (e?.$metadata?.httpStatusCode ?? 0) >= 500 ||
    (e?.name === 'TransactionCanceledException' && (e.CancellationReasons ?? []).some((r) => r.Code === 'TransactionConflict' || r.Code === 'ThrottlingError'));
  return transient ? new TransientError(`${e?.name ?? 'Error'}: ${(error as Error)?.message ?? String(error)}`, { cause: error }) : error;
}
