import * as z from 'zod/mini';
import { httpHandler } from '#shared/http/handler.ts';
import { rangeQuery, skipLimitQuery } from '#shared/http/packets.ts';
import { ok } from '#shared/http/reply.ts';
import { skipLimit } from '#shared/services/mode.ts';
import { listSessions } from '#shared/services/sessions.ts';
import { streamOf } from './params.ts';

/** GET .../streams/{streamName}/sessions?start&stop&skip&limit: sessions overlapping the range. */
export const handler = httpHandler(async (request) => {
  const { start, stop, skip, limit } = request.queryAs(z.extend(rangeQuery(), skipLimitQuery().shape));
  const stream = await streamOf(request);
  return ok(await skipLimit((pageSize, cursor) => listSessions(stream, start, stop, pageSize, cursor), skip, limit));
});
