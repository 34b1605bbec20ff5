import { httpHandler } from '#shared/http/handler.ts';
import { noContent } from '#shared/http/reply.ts';
import { deleteStream } from '#shared/services/streams.ts';

export const handler = httpHandler(async (request) => {
  await deleteStream(request.principal, request.params.id, { expectedRevision: request.ifMatch() });
  return noContent();
});
