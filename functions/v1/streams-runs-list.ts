import { httpHandler } from '#shared/http/handler.ts';
import { pageQuery } from '#shared/http/query.ts';
import { ok } from '#shared/http/reply.ts';
import { listRuns } from '#shared/services/runs.ts';
import { runJson } from './run-shapes.ts';

/** GET /v1/streams/{id}/runs: newest first. */
export const handler = httpHandler(async (request) => {
  const { limit, cursor } = request.queryAs(pageQuery);
  const page = await listRuns(request.principal, request.params.id, limit, cursor);
  return ok({ items: page.items.map(runJson), nextCursor: page.nextCursor });
});
