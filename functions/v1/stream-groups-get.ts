import { httpHandler } from '#shared/http/handler.ts';
import { ok, etagOf } from '#shared/http/reply.ts';
import { getGroup } from '#shared/services/groups.ts';

export const handler = httpHandler(async (request) => {
  const group = await getGroup(request.principal, request.params.id);
  return ok(group, { etag: etagOf(group.revision) });
});
