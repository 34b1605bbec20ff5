import { httpHandler } from '#shared/http/handler.ts';
import { created } from '#shared/http/reply.ts';
import { parsePartId, partUploadUrl } from '#shared/services/execution-parts.ts';

/** A presigned PUT (5 minutes) for a part too large to send inline; the commit verifies it. */
export const handler = httpHandler(async (request) => {
  const partId = parsePartId(request.params.partId);
  return created(await partUploadUrl(request.principal, request.params.id, { id: request.params.eid }, partId));
});
