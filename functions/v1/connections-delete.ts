import { httpHandler } from '#shared/http/handler.ts';
import { noContent } from '#shared/http/reply.ts';
import { deleteConnection } from '#shared/services/connections.ts';

export const handler = httpHandler(async (request) => {
  await deleteConnection(request.principal, request.params.id, request.ifMatch());
  return noContent();
});
