import { httpHandler } from '#shared/http/handler.ts';
import { created, etagOf } from '#shared/http/reply.ts';
import { createStream, streamInput } from '#shared/services/streams.ts';
import { streamJson } from './shapes.ts';

export const handler = httpHandler(
  async (request) => {
    const stream = await createStream(request.principal, request.json(streamInput()));
    return created(streamJson(stream, request.baseUrl), {
      etag: etagOf(stream.revision),
      location: `/v1/streams/${stream.id}`,
    });
  },
  { idempotent: true },
);
