import type { GroupRunRecord } from '#shared/store/group-runs.ts';

/** The native group-run object of API.md "Stream groups". */
export function groupRunJson(run: GroupRunRecord) {
  return {
    id: run.id,
    groupId: run.groupId,
    status: run.status,
    trigger: run.trigger,
    ...(run.fireTime ? { fireTime: run.fireTime } : {}),
    streams: run.streams,
    position: run.position,
    completedStreams: run.completedStreams,
    currentRunId: run.currentRunId,
    streamRuns: run.streamRuns,
    versions: run.versions,
    checkpoint: run.checkpoint,
    attempt: run.attempt,
    startedAt: run.startedAt,
    endedAt: run.endedAt,
    error: run.error,
  };
}
