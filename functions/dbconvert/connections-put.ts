import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { connectionInput, updateConnection } from '#shared/services/connections.ts';
import { connectionJson } from './shapes.ts';

/** Replaces the settings; without `password` the stored one is kept. */
export const handler = httpHandler(async (request) =>
  ok(connectionJson(await updateConnection(request.principal, request.params.id, request.json(connectionInput())))),
);
