import { httpHandler } from '#shared/http/handler.ts';
import { etagOf, ok } from '#shared/http/reply.ts';
import { connectionJson, getConnection } from '#shared/services/connections.ts';

export const handler = httpHandler(async (request) => {
  const connection = await getConnection(request.principal, request.params.id);
  return ok(connectionJson(connection), { etag: etagOf(connection.revision) });
});
