import { httpHandler } from '#shared/http/handler.ts';
import { idempotencyKeyOf } from '#shared/http/packets.ts';
import { created } from '#shared/http/reply.ts';
import { invalid } from '#shared/model/errors.ts';
import { appendPacketsAs } from '#shared/services/packets.ts';

/** POST /v1/streams/{id}/packets: the body is one packet's raw bytes (any content type, up to 5 MiB). */
export const handler = httpHandler(async (request) => {
  const bytes = request.rawBody();
  if (bytes.length === 0) throw invalid('the body is empty; a packet needs at least one byte');
  const [packet] = await appendPacketsAs(
    request.principal,
    request.params.id,
    [{ bytes, contentType: request.headers['content-type'] }],
    idempotencyKeyOf(request.headers),
  );
  return created({ index: packet.index, size: packet.size, receivedAt: packet.receivedAt });
});
