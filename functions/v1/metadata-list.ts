import * as z from 'zod/mini';
import { httpHandler } from '#shared/http/handler.ts';
import { rangeQuery } from '#shared/http/packets.ts';
import { pageQuery } from '#shared/http/query.ts';
import { ok } from '#shared/http/reply.ts';
import { listMetadata } from '#shared/services/metadata.ts';
import { getStream } from '#shared/services/streams.ts';

/** GET /v1/streams/{id}/metadata?start&stop: metadata packets in index order, paginated. */
export const handler = httpHandler(async (request) => {
  const { start, stop, limit, cursor } = request.queryAs(z.extend(pageQuery, rangeQuery().shape));
  const stream = await getStream(request.principal, request.params.id);
  return ok(await listMetadata(stream, start, stop, limit, cursor));
});
