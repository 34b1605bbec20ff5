import { httpHandler } from '#shared/http/handler.ts';
import { noContent } from '#shared/http/reply.ts';
import { getConfig } from '#shared/services/dbconvert.ts';
import { deleteStream } from '#shared/services/streams.ts';

/** 204; 409 while a stream started from it is running. A cdc configuration's replication slot is dropped by the purge that follows. */
export const handler = httpHandler(async (request) => {
  const config = await getConfig(request.principal, request.params.id);
  await deleteStream(request.principal, config.id);
  return noContent();
});
