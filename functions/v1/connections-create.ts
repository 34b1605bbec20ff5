import { httpHandler } from '#shared/http/handler.ts';
import { created, etagOf } from '#shared/http/reply.ts';
import { connectionInput, connectionJson, createConnection } from '#shared/services/connections.ts';

export const handler = httpHandler(
  async (request) => {
    const connection = await createConnection(request.principal, request.json(connectionInput()));
    return created(connectionJson(connection), { etag: etagOf(connection.revision), location: `/v1/connections/${connection.id}` });
  },
  { idempotent: true },
);
