import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { stopGroup } from '#shared/services/group-runs.ts';
import { groupRunJson } from './group-run-shapes.ts';

/** POST /v1/stream-groups/{id}/stop: stops the running stream and the group; the checkpoint is kept. 409 if not running. */
export const handler = httpHandler(async (request) => ok(groupRunJson(await stopGroup(request.principal, request.params.id))));
