import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { listConnections } from '#shared/services/connections.ts';
import { allPages } from '#shared/store/pagination.ts';
import { connectionJson } from './shapes.ts';

/** DBConvert lists are plain arrays: every connection of the solution. */
export const handler = httpHandler(async (request) =>
  ok((await allPages((cursor) => listConnections(request.principal.solutionId, 500, cursor))).map(connectionJson)),
);
