import type { EndStatus } from '#shared/model/run-lifecycle.ts';
import { endRun } from '#shared/services/runs.ts';
import { getRunRecord } from '#shared/store/runs.ts';

/** RecordEnd: the run stopped, finished or reached a limit. Idempotent (a retry finds it ended). */
export async function handler(event: { runId: string; action: string }): Promise<{ runId: string; status: string }> {
  const status: EndStatus = event.action === 'stop' ? 'stopped' : (event.action as EndStatus);
  const run = await getRunRecord(event.runId);
  if (run) await endRun(run, status);
  return { runId: event.runId, status };
}
