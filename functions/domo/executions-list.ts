import * as z from 'zod/mini';
import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { domoFaceOf, getDomoStream } from '#shared/services/domo-streams.ts';
import { listExecutions } from '#shared/services/executions.ts';
import { domoExecutionJson } from './shapes.ts';

const query = z.object({ limit: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(500)), 50), offset: z._default(z.coerce.number().check(z.int(), z.gte(0)), 0) });

/** Newest first, `?limit&offset` as Domo's lists. */
export const handler = httpHandler(async (request) => {
  const { limit, offset } = request.queryAs(query);
  const stream = await getDomoStream(request.principal, request.params.id);
  const items = [];
  let cursor: string | undefined;
  do {
    const page = await listExecutions(request.principal, stream.id, 500, cursor);
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && items.length < offset + limit);
  return ok(items.slice(offset, offset + limit).map((execution) => domoExecutionJson(execution, domoFaceOf(stream)!.id)));
});
