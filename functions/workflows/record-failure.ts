import { endRun } from '#shared/services/runs.ts';
import { getRunRecord } from '#shared/store/runs.ts';

/**
 * RecordFailure, reached through Catch: `error` is Step Functions' `{Error, Cause}`.
 * A Lambda's Cause is a JSON `{errorMessage, errorType}`; the message is what the run shows.
 */
export async function handler(event: { runId: string; error?: { Error?: string; Cause?: string } }): Promise<{ runId: string; status: 'failed' }> {
  const code = event.error?.Error ?? 'Error';
  let message = event.error?.Cause ?? 'the run failed';
  try {
    const cause = JSON.parse(message);
    if (typeof cause?.errorMessage === 'string') message = cause.errorMessage;
  } catch {
    // a plain-text cause
  }
  const run = await getRunRecord(event.runId);
  if (run) await endRun(run, 'failed', { code, message: message.slice(0, 2000), at: new Date().toISOString() });
  return { runId: event.runId, status: 'failed' };
}
