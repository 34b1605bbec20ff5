import { httpHandler } from '#shared/http/handler.ts';
import { pageQuery } from '#shared/http/query.ts';
import { ok } from '#shared/http/reply.ts';
import { connectionJson, listConnections } from '#shared/services/connections.ts';

export const handler = httpHandler(async (request) => {
  const { limit, cursor } = request.queryAs(pageQuery);
  const page = await listConnections(request.principal.solutionId, limit, cursor);
  return ok({ items: page.items.map(connectionJson), nextCursor: page.nextCursor });
});
