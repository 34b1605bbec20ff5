import { httpHandler } from '#shared/http/handler.ts';
import { rangeQuery } from '#shared/http/packets.ts';
import { redirect } from '#shared/http/reply.ts';
import { packetDownloadUrlAs } from '#shared/services/packets.ts';

/** GET /v1/streams/{id}/data?start&stop: 302 to the presigned MessagePack bundle; never the bytes. */
export const handler = httpHandler(async (request) => {
  const { start, stop } = request.queryAs(rangeQuery());
  return redirect(await packetDownloadUrlAs(request.principal, request.params.id, start, stop));
});
