import { httpHandler } from '#shared/http/handler.ts';
import { noContent } from '#shared/http/reply.ts';
import { deleteSession } from '#shared/services/sessions.ts';
import { streamOf } from './params.ts';

/** DELETE .../streams/{streamName}/sessions/{sessionId}: 204; 409 while in use. */
export const handler = httpHandler(async (request) => {
  await deleteSession(await streamOf(request), request.params.sessionId);
  return noContent();
});
