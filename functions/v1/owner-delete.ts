import { httpHandler } from '#shared/http/handler.ts';
import { noContent } from '#shared/http/reply.ts';
import { releaseOwnership } from '#shared/services/packets.ts';

/** DELETE /v1/streams/{id}/owner: release the lease (204; 409 while another key holds it). */
export const handler = httpHandler(async (request) => {
  await releaseOwnership(request.principal, request.params.id);
  return noContent();
});
