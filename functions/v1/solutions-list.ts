import { httpHandler } from '#shared/http/handler.ts';
import { pageQuery } from '#shared/http/query.ts';
import { ok } from '#shared/http/reply.ts';
import { listSolutions } from '#shared/store/solutions.ts';

export const handler = httpHandler(async (request) => {
  const { limit, cursor } = request.queryAs(pageQuery);
  return ok(await listSolutions(limit, cursor));
});
