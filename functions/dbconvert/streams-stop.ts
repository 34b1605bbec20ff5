import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { nowUnix, startedRunId, streamIdOfRun } from '#shared/services/dbconvert.ts';
import { stopRun } from '#shared/services/runs.ts';

/** `{id: stream_…, status, stopped: <unix seconds>}`; 409 when the stream cannot stop now. */
export const handler = httpHandler(async (request) => {
  const run = await stopRun(request.principal, startedRunId(request.params.id));
  return ok({ id: streamIdOfRun(run.id), status: run.status.toUpperCase(), stopped: nowUnix() });
});
