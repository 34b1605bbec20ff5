import * as z from 'zod/mini';
import { httpHandler } from '#shared/http/handler.ts';
import { rangeQuery } from '#shared/http/packets.ts';
import { pageQuery } from '#shared/http/query.ts';
import { ok } from '#shared/http/reply.ts';
import { listSessions } from '#shared/services/sessions.ts';
import { getStream } from '#shared/services/streams.ts';

/** GET /v1/streams/{id}/sessions?start&stop (required): sessions overlapping the range, paginated. */
export const handler = httpHandler(async (request) => {
  const { start, stop, limit, cursor } = request.queryAs(z.extend(pageQuery, rangeQuery().shape));
  const stream = await getStream(request.principal, request.params.id);
  return ok(await listSessions(stream, start, stop, limit, cursor));
});
