import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { stopRun } from '#shared/services/runs.ts';
import { runJson } from './run-shapes.ts';

/** POST /v1/runs/{id}/stop: 200 with the run; 409 on an impossible transition. */
export const handler = httpHandler(async (request) => ok(runJson(await stopRun(request.principal, request.params.id))));
