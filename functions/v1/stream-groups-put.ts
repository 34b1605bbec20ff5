import { httpHandler } from '#shared/http/handler.ts';
import { ok, etagOf } from '#shared/http/reply.ts';
import { groupInput, replaceGroupDefinition } from '#shared/services/groups.ts';

export const handler = httpHandler(async (request) => {
  const group = await replaceGroupDefinition(request.principal, request.params.id, request.json(groupInput()), request.ifMatch());
  return ok(group, { etag: etagOf(group.revision) });
});
