import { httpHandler } from '#shared/http/handler.ts';
import { skipLimitQuery } from '#shared/http/packets.ts';
import { ok } from '#shared/http/reply.ts';
import { listModeStreams } from '#shared/services/mode.ts';
import { homePath } from './params.ts';

/** GET /homes/{homeId}/smartModules/{moduleId}/streams?skip&limit: an array of `{homeId, moduleId, name}`. */
export const handler = httpHandler(async (request) => {
  const { homeId, moduleId } = request.paramsAs(homePath);
  const { skip, limit } = request.queryAs(skipLimitQuery());
  return ok(await listModeStreams(request.principal, homeId, moduleId, skip, limit));
});
