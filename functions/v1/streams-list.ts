import * as z from 'zod/mini';
import { httpHandler } from '#shared/http/handler.ts';
import { pageQuery } from '#shared/http/query.ts';
import { ok } from '#shared/http/reply.ts';
import { listStreams, solutionFor } from '#shared/services/streams.ts';
import { streamJson } from './shapes.ts';

const query = z.extend(pageQuery, {
  name: z.optional(z.string()),
  namespace: z.optional(z.string()),
  collector: z.optional(z.string()),
  meter: z.optional(z.string()),
  aggregationStore: z.optional(z.string()),
  solutionId: z.optional(z.string()),
  status: z.optional(z.string()),
});

export const handler = httpHandler(async (request) => {
  const { limit, cursor, solutionId, ...filters } = request.queryAs(query);
  const page = await listStreams(solutionFor(request.principal, solutionId), filters, limit, cursor);
  return ok({ items: page.items.map((stream) => streamJson(stream, request.baseUrl)), nextCursor: page.nextCursor });
});
