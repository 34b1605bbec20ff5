import * as z from 'zod/mini';

/** `?limit=1..500` (default 50) and `?cursor=` of native lists. */
export const pageQuery = z.object({
  limit: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(500)), 50),
  cursor: z.optional(z.string().check(z.minLength(1))),
});
