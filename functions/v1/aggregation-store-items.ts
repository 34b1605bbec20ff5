import * as z from 'zod/mini';
import { httpHandler } from '#shared/http/handler.ts';
import { pageQuery } from '#shared/http/query.ts';
import { ok } from '#shared/http/reply.ts';
import { aggregationStoreItems } from '#shared/services/run-overview.ts';
import { solutionFor } from '#shared/services/streams.ts';

const query = z.extend(pageQuery, { key: z.optional(z.string()), solutionId: z.optional(z.string()) });

/** GET /v1/aggregation-stores/{name}/items: the keyed aggregates meters wrote; `?key=` is a prefix. */
export const handler = httpHandler(async (request) => {
  const { limit, cursor, key, solutionId } = request.queryAs(query);
  return ok(await aggregationStoreItems(solutionFor(request.principal, solutionId), request.params.name, key, limit, cursor));
});
