import { httpHandler } from '#shared/http/handler.ts';
import { etagOf, ok } from '#shared/http/reply.ts';
import { connectionInput, connectionJson, updateConnection } from '#shared/services/connections.ts';

/** Replaces the settings; omit `password` to keep the stored one. */
export const handler = httpHandler(async (request) => {
  const connection = await updateConnection(request.principal, request.params.id, request.json(connectionInput()), request.ifMatch());
  return ok(connectionJson(connection), { etag: etagOf(connection.revision) });
});
