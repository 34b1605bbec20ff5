import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { controlStartedStream, nowUnix, streamIdOfRun } from '#shared/services/dbconvert.ts';

/** `{id: stream_…, status, stopped: <unix seconds>}`; 409 when the stream cannot stop now. */
export const handler = httpHandler(async (request) => {
  const run = await controlStartedStream(request.principal, request.params.id, 'stop');
  return ok({ id: streamIdOfRun(run.id), status: run.status.toUpperCase(), stopped: nowUnix() });
});
