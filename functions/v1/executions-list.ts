import { httpHandler } from '#shared/http/handler.ts';
import { pageQuery } from '#shared/http/query.ts';
import { ok } from '#shared/http/reply.ts';
import { listExecutions } from '#shared/services/executions.ts';
import { executionJson } from './dataset-shapes.ts';

/** Newest first. */
export const handler = httpHandler(async (request) => {
  const { limit, cursor } = request.queryAs(pageQuery);
  const page = await listExecutions(request.principal, request.params.id, limit, cursor);
  return ok({ items: page.items.map(executionJson), nextCursor: page.nextCursor });
});
