import * as z from 'zod/mini';
import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { MAX_LEASE_SECONDS, takeOwnership } from '#shared/services/packets.ts';

export const ownerInput = z.object({ ttlSeconds: z._default(z.number().check(z.int(), z.gte(1), z.lte(MAX_LEASE_SECONDS)), 60) });

/** PUT /v1/streams/{id}/owner: take or renew the writer lease (409 while another key holds it). */
export const handler = httpHandler(async (request) => {
  const { ttlSeconds } = request.json(ownerInput);
  return ok(await takeOwnership(request.principal, request.params.id, ttlSeconds));
});
