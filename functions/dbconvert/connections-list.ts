import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { listConnections } from '#shared/services/connections.ts';
import type { ConnectionRecord } from '#shared/store/connections.ts';
import { connectionJson } from './shapes.ts';

/** DBConvert lists are plain arrays: every connection of the solution. */
export const handler = httpHandler(async (request) => {
  const all: ConnectionRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await listConnections(request.principal.solutionId, 500, cursor);
    all.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return ok(all.map(connectionJson));
});
