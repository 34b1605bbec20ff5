import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { getSessionOf } from '#shared/services/sessions.ts';
import { getStream } from '#shared/services/streams.ts';

/** GET /v1/streams/{id}/sessions/{sessionId} */
export const handler = httpHandler(async (request) =>
  ok(await getSessionOf(await getStream(request.principal, request.params.id), request.params.sessionId)),
);
