import { httpHandler } from '#shared/http/handler.ts';
import { pageQuery } from '#shared/http/query.ts';
import { ok } from '#shared/http/reply.ts';
import { listGroupRuns } from '#shared/services/group-runs.ts';
import { groupRunJson } from './group-run-shapes.ts';

/** GET /v1/stream-groups/{id}/runs: the group's runs, newest first. */
export const handler = httpHandler(async (request) => {
  const { limit, cursor } = request.queryAs(pageQuery);
  const page = await listGroupRuns(request.principal, request.params.id, limit, cursor);
  return ok({ items: page.items.map(groupRunJson), nextCursor: page.nextCursor });
});
