import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { resumeGroup } from '#shared/services/group-runs.ts';
import { groupRunJson } from './group-run-shapes.ts';

/** POST /v1/stream-groups/{id}/resume: stops any stream of the group still running, then goes on from the checkpoint. 409 if nothing to resume. */
export const handler = httpHandler(async (request) => ok(groupRunJson(await resumeGroup(request.principal, request.params.id))), { idempotent: true });
