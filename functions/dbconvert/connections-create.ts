import { httpHandler } from '#shared/http/handler.ts';
import { created } from '#shared/http/reply.ts';
import { connectionInput, createConnection } from '#shared/services/connections.ts';
import { connectionJson } from './shapes.ts';

export const handler = httpHandler(
  async (request) => created(connectionJson(await createConnection(request.principal, request.json(connectionInput())))),
  { idempotent: true },
);
