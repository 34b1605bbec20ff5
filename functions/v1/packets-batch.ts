import { httpHandler } from '#shared/http/handler.ts';
import { decodeBatch, idempotencyKeyOf } from '#shared/http/packets.ts';
import { created } from '#shared/http/reply.ts';
import { appendPacketsAs } from '#shared/services/packets.ts';

/** POST /v1/streams/{id}/packets/batch: consecutive indexes, all or nothing. */
export const handler = httpHandler(async (request) => {
  const packets = decodeBatch(request.headers['content-type'], request.rawBody());
  const appended = await appendPacketsAs(request.principal, request.params.id, packets, idempotencyKeyOf(request.headers));
  return created({
    first: appended[0].index,
    last: appended[appended.length - 1].index,
    packets: appended.map((p) => ({ index: p.index, size: p.size, receivedAt: p.receivedAt })),
  });
});
