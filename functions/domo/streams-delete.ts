import { httpHandler } from '#shared/http/handler.ts';
import { noContent } from '#shared/http/reply.ts';
import { deleteDomoStream } from '#shared/services/domo-streams.ts';

export const handler = httpHandler(async (request) => {
  await deleteDomoStream(request.principal, request.params.id);
  return noContent();
});
