import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { getGroupRun } from '#shared/services/group-runs.ts';
import { groupRunJson } from './group-run-shapes.ts';

/** GET /v1/group-runs/{id}. */
export const handler = httpHandler(async (request) => ok(groupRunJson(await getGroupRun(request.principal, request.params.id))));
