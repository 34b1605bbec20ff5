import type { RunRecord } from '#shared/store/runs.ts';
import { runStats } from '#shared/services/run-stats.ts';

/** The native run object of API.md "Runs". */
export function runJson(run: RunRecord) {
  const stats = runStats(run);
  return {
    id: run.id,
    streamId: run.streamId,
    version: run.version,
    executionId: run.executionId,
    trigger: run.trigger,
    status: run.status,
    desiredStatus: run.desiredStatus,
    startedAt: run.startedAt,
    endedAt: run.endedAt,
    checkpoint: { bundle: run.checkpoint.bundle, offsets: run.checkpoint.offsets, committedAt: run.checkpoint.committedAt ?? null },
    stats: { totals: stats.totals, uptimeSeconds: stats.uptimeSeconds, avgRate: stats.avgRate },
    error: run.error,
    recentErrors: run.recentErrors,
    ...(run.fireTime ? { fireTime: run.fireTime } : {}),
    ...(run.groupRunId ? { groupRunId: run.groupRunId } : {}),
  };
}
