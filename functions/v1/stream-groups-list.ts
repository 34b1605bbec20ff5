import * as z from 'zod/mini';
import { httpHandler } from '#shared/http/handler.ts';
import { pageQuery } from '#shared/http/query.ts';
import { ok } from '#shared/http/reply.ts';
import { listGroups } from '#shared/services/groups.ts';
import { solutionFor } from '#shared/services/streams.ts';

const query = z.extend(pageQuery, { solutionId: z.optional(z.string()) });

export const handler = httpHandler(async (request) => {
  const { limit, cursor, solutionId } = request.queryAs(query);
  return ok(await listGroups(solutionFor(request.principal, solutionId), limit, cursor));
});
