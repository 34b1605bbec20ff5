import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { undeployStream } from '#shared/services/deployments.ts';

/** Undeploys (409 while a run is active); disarms the schedule. */
export const handler = httpHandler(async (request) => {
  const deployment = await undeployStream(request.principal, request.params.id);
  return ok({ streamId: request.params.id, ...deployment });
});
