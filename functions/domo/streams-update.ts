import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { domoStreamUpdate, updateDomoStream } from '#shared/services/domo-streams.ts';
import { domoStreamJson } from './shapes.ts';

/** Changes only dataSource, account, streamConfiguration and schemaDefinition; other fields are ignored. */
export const handler = httpHandler(async (request) => {
  const stream = await updateDomoStream(request.principal, request.params.id, request.json(domoStreamUpdate()));
  return ok(domoStreamJson(stream));
});
