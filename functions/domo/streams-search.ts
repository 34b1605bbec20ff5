import * as z from 'zod/mini';
import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { searchDomoStreams } from '#shared/services/domo-streams.ts';
import { domoStreamJson } from './shapes.ts';

const query = z.object({
  q: z.optional(z.string()),
  limit: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(500)), 50),
  offset: z._default(z.coerce.number().check(z.int(), z.gte(0)), 0),
});

/** `?q=field:value` on one of the five seed fields; `dataSource.name` takes `*` wildcards. */
export const handler = httpHandler(async (request) => {
  const { q, limit, offset } = request.queryAs(query);
  const streams = await searchDomoStreams(request.principal, q, limit, offset);
  return ok(streams.map((stream) => domoStreamJson(stream)));
});
