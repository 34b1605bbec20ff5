import { httpHandler } from '#shared/http/handler.ts';
import { created } from '#shared/http/reply.ts';
import { addSession, sessionInput } from '#shared/services/sessions.ts';
import { getStream } from '#shared/services/streams.ts';

/** POST /v1/streams/{id}/sessions `{start, stop}` within the known packets (400 otherwise). */
export const handler = httpHandler(async (request) => {
  const { start, stop } = request.json(sessionInput());
  const stream = await getStream(request.principal, request.params.id);
  const session = await addSession(request.principal, stream, start, stop);
  return created(session, { location: `/v1/streams/${stream.id}/sessions/${session.id}` });
});
