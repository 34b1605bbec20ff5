import * as z from 'zod';
import { httpHandler } from '#shared/http/handler.ts';
import { pageQuery } from '#shared/http/query.ts';
import { ok } from '#shared/http/reply.ts';
import { listStreams, solutionFor } from '#shared/services/streams.ts';
import { streamJson } from './shapes.ts';

const query = pageQuery.extend({
  name: z.string().optional(),
  namespace: z.string().optional(),
  collector: z.string().optional(),
  meter: z.string().optional(),
  aggregationStore: z.string().optional(),
  solutionId: z.string().optional(),
  status: z.string().optional(),
});

export const handler = httpHandler(async (request) => {
  const { limit, cursor, solutionId, ...filters } = request.queryAs(query);
  const page = await listStreams(solutionFor(request.principal, solutionId), filters, limit, cursor);
  return ok({ items: page.items.map((stream) => streamJson(stream, request.baseUrl)), nextCursor: page.nextCursor });
});
