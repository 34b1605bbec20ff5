import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { getStartedStream, streamIdOfRun, unix } from '#shared/services/dbconvert.ts';
import { resumeRun } from '#shared/services/runs.ts';

/** `{id: stream_…, status, resumed: <unix seconds>}`; 409 when the stream cannot resume now. */
export const handler = httpHandler(async (request) => {
  const started = await getStartedStream(request.principal, request.params.id);
  const run = await resumeRun(request.principal, started.id);
  return ok({ id: streamIdOfRun(run.id), status: run.status.toUpperCase(), resumed: unix(new Date().toISOString()) });
});
