import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { openSession } from '#shared/services/sessions.ts';
import { getStream } from '#shared/services/streams.ts';

/** POST /v1/streams/{id}/sessions/open: openPacketIndex becomes the next index (409 if one is open). */
export const handler = httpHandler(async (request) => ok(await openSession(await getStream(request.principal, request.params.id))));
