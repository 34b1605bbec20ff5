import { httpHandler } from '#shared/http/handler.ts';
import { created, ok } from '#shared/http/reply.ts';
import { closeSession } from '#shared/services/sessions.ts';
import { getStream } from '#shared/services/streams.ts';

/**
 * POST /v1/streams/{id}/sessions/close: 201 with the session openPacketIndex..last packet,
 * or 200 `{session: null}` when no packet arrived since the open; 409 when none is open.
 */
export const handler = httpHandler(async (request) => {
  const session = await closeSession(request.principal, await getStream(request.principal, request.params.id));
  return session ? created(session) : ok({ session: null });
});
