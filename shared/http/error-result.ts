import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { SluiceError } from '../model/errors.ts';
import { errorBody, type Face } from './faces.ts';
import { logger } from './logger.ts';
import { toResult } from './reply.ts';

/**
 * The answer to a request that failed: a SluiceError in the face's error shape
 * (5xx logged with the reason), anything else a logged generic 500 that leaks
 * no internals.
 */
export async function errorResult(error: unknown, face: Face, requestId: string): Promise<APIGatewayProxyStructuredResultV2> {
  let known: SluiceError;
  if (error instanceof SluiceError) {
    known = error;
    if (known.status >= 500) await logger.error('request failed', { code: known.code, reason: known.message, requestId });
  } else {
    // Never leak internals: log the stack, answer a generic 500.
    await logger.error('unexpected error', { requestId, error: error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : String(error) });
    known = new SluiceError('internal', 'An internal error occurred; quote the requestId when reporting it');
  }
  return toResult({ status: known.status, body: errorBody(face, known, requestId) }, requestId);
}
