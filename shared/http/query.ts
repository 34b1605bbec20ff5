import * as z from 'zod';

/** `?limit=1..500` (default 50) and `?cursor=` of native lists. */
export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().min(1).optional(),
});
