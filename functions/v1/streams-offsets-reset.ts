import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { offsetsReset, resetOffsets } from '#shared/services/run-overview.ts';

/** POST /v1/streams/{id}/offsets/reset: back to the beginning (or `{offsets}`); 409 while a run is active. */
export const handler = httpHandler(async (request) => ok(await resetOffsets(request.principal, request.params.id, request.json(offsetsReset()))));
