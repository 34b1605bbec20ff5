import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { streamDataStatus } from '#shared/services/packets.ts';

/** GET /v1/streams/{id}/status */
export const handler = httpHandler(async (request) => ok(await streamDataStatus(request.principal, request.params.id)));
