import { z } from 'zod';
import { httpHandler } from '#shared/http/handler.ts';
import { ok, etagOf } from '#shared/http/reply.ts';
import { getStream } from '#shared/services/streams.ts';
import { selectFields, streamJson } from './shapes.ts';

const query = z.object({ fields: z.string().optional(), version: z.string().optional() });

export const handler = httpHandler(async (request) => {
  const { fields } = request.queryAs(query);
  const stream = await getStream(request.principal, request.params.id);
  const body = streamJson(stream, request.baseUrl);
  return ok(fields ? selectFields(body, fields) : body, { etag: etagOf(stream.revision) });
});
