import { httpHandler } from '#shared/http/handler.ts';
import { noContent } from '#shared/http/reply.ts';
import { deleteGroup } from '#shared/services/groups.ts';

export const handler = httpHandler(async (request) => {
  await deleteGroup(request.principal, request.params.id, request.ifMatch());
  return noContent();
});
