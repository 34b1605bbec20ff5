import { httpHandler } from '#shared/http/handler.ts';
import { noContent } from '#shared/http/reply.ts';
import { deleteSession } from '#shared/services/sessions.ts';
import { getStream } from '#shared/services/streams.ts';

/** DELETE /v1/streams/{id}/sessions/{sessionId}: 204; 409 while a download or run uses it. */
export const handler = httpHandler(async (request) => {
  await deleteSession(await getStream(request.principal, request.params.id), request.params.sessionId);
  return noContent();
});
