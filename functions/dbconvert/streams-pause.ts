import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { getStartedStream, streamIdOfRun, unix } from '#shared/services/dbconvert.ts';
import { pauseRun } from '#shared/services/runs.ts';

/** `{id: stream_…, status, paused: <unix seconds>}`; 409 when the stream cannot pause now. */
export const handler = httpHandler(async (request) => {
  const started = await getStartedStream(request.principal, request.params.id);
  const run = await pauseRun(request.principal, started.id);
  return ok({ id: streamIdOfRun(run.id), status: run.status.toUpperCase(), paused: unix(new Date().toISOString()) });
});
