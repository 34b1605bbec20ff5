import * as z from 'zod/mini';
import { httpHandler } from '#shared/http/handler.ts';
import { packetIndexParam } from '#shared/http/packets.ts';
import { created, ok } from '#shared/http/reply.ts';
import { putMetadata } from '#shared/services/metadata.ts';
import { getStream } from '#shared/services/streams.ts';

/** PUT /v1/streams/{id}/metadata/{packetIndex}: a JSON object; 201 when new, 200 when replaced. */
export const handler = httpHandler(async (request) => {
  const { packetIndex } = request.paramsAs(z.object({ id: z.string(), packetIndex: packetIndexParam() }));
  const content = request.json(z.unknown());
  const stream = await getStream(request.principal, request.params.id);
  const { record, created: isNew } = await putMetadata(request.principal, stream, packetIndex, content);
  return isNew ? created(record) : ok(record);
});
