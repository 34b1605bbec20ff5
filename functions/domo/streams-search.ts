import * as z from 'zod';
import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { searchDomoStreams } from '#shared/services/domo-streams.ts';
import { domoStreamJson } from './shapes.ts';

const query = z.object({
  q: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

/** `?q=field:value` on one of the five seed fields; `dataSource.name` takes `*` wildcards. */
export const handler = httpHandler(async (request) => {
  const { q, limit, offset } = request.queryAs(query);
  const streams = await searchDomoStreams(request.principal, q, limit, offset);
  return ok(streams.map((stream) => domoStreamJson(stream)));
});
