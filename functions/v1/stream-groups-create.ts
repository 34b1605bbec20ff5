import { httpHandler } from '#shared/http/handler.ts';
import { created, etagOf } from '#shared/http/reply.ts';
import { createGroup, groupInput } from '#shared/services/groups.ts';

export const handler = httpHandler(
  async (request) => {
    const group = await createGroup(request.principal, request.json(groupInput()));
    return created(group, { etag: etagOf(group.revision), location: `/v1/stream-groups/${group.id}` });
  },
  { idempotent: true },
);
