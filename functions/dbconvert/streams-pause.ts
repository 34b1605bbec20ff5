import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { nowUnix, startedRunId, streamIdOfRun } from '#shared/services/dbconvert.ts';
import { pauseRun } from '#shared/services/runs.ts';

/** `{id: stream_…, status, paused: <unix seconds>}`; 409 when the stream cannot pause now. */
export const handler = httpHandler(async (request) => {
  const run = await pauseRun(request.principal, startedRunId(request.params.id));
  return ok({ id: streamIdOfRun(run.id), status: run.status.toUpperCase(), paused: nowUnix() });
});
