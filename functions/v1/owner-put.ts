import { z } from 'zod';
import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { MAX_LEASE_SECONDS, takeOwnership } from '#shared/services/packets.ts';

export const ownerInput = z.object({ ttlSeconds: z.number().int().min(1).max(MAX_LEASE_SECONDS).default(60) });

/** PUT /v1/streams/{id}/owner: take or renew the writer lease (409 while another key holds it). */
export const handler = httpHandler(async (request) => {
  const { ttlSeconds } = request.json(ownerInput);
  return ok(await takeOwnership(request.principal, request.params.id, ttlSeconds));
});
