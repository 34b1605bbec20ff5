import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { stopStream } from '#shared/services/runs.ts';
import { runJson } from './run-shapes.ts';

/** POST /v1/streams/{id}/stop: stops the active run (409 if none). */
export const handler = httpHandler(async (request) => ok(runJson(await stopStream(request.principal, request.params.id))));
