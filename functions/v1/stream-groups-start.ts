import { httpHandler } from '#shared/http/handler.ts';
import { created } from '#shared/http/reply.ts';
import { startGroup } from '#shared/services/group-runs.ts';
import { groupRunJson } from './group-run-shapes.ts';

/** POST /v1/stream-groups/{id}/start: a new group run (201); 409 while the group is running. */
export const handler = httpHandler(
  async (request) => {
    const run = await startGroup(request.principal, request.params.id);
    return created(groupRunJson(run), { location: `/v1/group-runs/${run.id}` });
  },
  { idempotent: true },
);
