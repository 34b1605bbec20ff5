import { httpHandler } from '#shared/http/handler.ts';
import { ok, etagOf } from '#shared/http/reply.ts';
import { streamInput, updateStream } from '#shared/services/streams.ts';
import { streamJson } from './shapes.ts';

/** PUT replaces the stream's editable fields as a new autosaved revision. */
export const handler = httpHandler(async (request) => {
  const input = request.json(streamInput());
  const stream = await updateStream(
    request.principal,
    request.params.id,
    () => ({ ...input, definition: input.definition ?? {} }),
    request.ifMatch(),
  );
  return ok(streamJson(stream, request.baseUrl), { etag: etagOf(stream.revision) });
});
