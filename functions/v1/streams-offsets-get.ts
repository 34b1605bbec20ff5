import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { streamOffsets } from '#shared/services/run-overview.ts';

/** GET /v1/streams/{id}/offsets: the committed source offsets the next run continues from. */
export const handler = httpHandler(async (request) => ok(await streamOffsets(request.principal, request.params.id)));
