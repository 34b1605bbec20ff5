import { httpHandler } from '#shared/http/handler.ts';
import { noContent } from '#shared/http/reply.ts';
import { deleteConfig } from '#shared/services/dbconvert.ts';

/** 204; 409 while a stream started from it is running. A cdc configuration's replication slot is dropped by the purge that follows. */
export const handler = httpHandler(async (request) => {
  await deleteConfig(request.principal, request.params.id);
  return noContent();
});
