import { httpHandler } from '#shared/http/handler.ts';
import { pageQuery } from '#shared/http/query.ts';
import { ok } from '#shared/http/reply.ts';
import { listVersions } from '#shared/services/versions.ts';

/** The autosaved version, then every tag oldest first. */
export const handler = httpHandler(async (request) => {
  const { limit, cursor } = request.queryAs(pageQuery);
  return ok(await listVersions(request.principal, request.params.id, limit, cursor));
});
