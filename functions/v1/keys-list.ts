import * as z from 'zod/mini';
import { httpHandler } from '#shared/http/handler.ts';
import { pageQuery } from '#shared/http/query.ts';
import { ok } from '#shared/http/reply.ts';
import { listKeys } from '#shared/store/keys.ts';

const query = z.extend(pageQuery, { solutionId: z.optional(z.string()) });

export const handler = httpHandler(async (request) => {
  const { limit, cursor, solutionId } = request.queryAs(query);
  const page = await listKeys(solutionId ?? request.principal.solutionId, limit, cursor);
  return ok({
    items: page.items.map(({ id, name, scopes, solutionId, createdAt }) => ({ id, name, scopes, solutionId, createdAt })),
    nextCursor: page.nextCursor,
  });
});
