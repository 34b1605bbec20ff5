import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { getConnection } from '#shared/services/connections.ts';
import { connectionJson } from './shapes.ts';

export const handler = httpHandler(async (request) => ok(connectionJson(await getConnection(request.principal, request.params.id))));
