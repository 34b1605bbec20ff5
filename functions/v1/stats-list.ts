import * as z from 'zod/mini';
import { httpHandler } from '#shared/http/handler.ts';
import { pageQuery } from '#shared/http/query.ts';
import { ok } from '#shared/http/reply.ts';
import { listStats } from '#shared/services/run-overview.ts';
import { solutionFor } from '#shared/services/streams.ts';

const query = z.extend(pageQuery, {
  solutionId: z.optional(z.string()),
  streamId: z.optional(z.string()),
  status: z.optional(z.string()),
  groupId: z.optional(z.string()),
});

/** GET /v1/stats: the UsageCloud stats list, flat items, lowercase statuses. */
export const handler = httpHandler(async (request) => {
  const { limit, cursor, solutionId, ...filters } = request.queryAs(query);
  return ok(await listStats(solutionFor(request.principal, solutionId), filters, limit, cursor));
});
