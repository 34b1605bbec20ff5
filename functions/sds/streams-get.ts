import * as z from 'zod/mini';
import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { modeStreamJson } from '#shared/services/mode.ts';
import { homePath, streamOf } from './params.ts';

/** GET /homes/{homeId}/smartModules/{moduleId}/streams/{streamName} */
export const handler = httpHandler(async (request) => {
  const stream = await streamOf(request);
  return ok(modeStreamJson(stream, request.paramsAs(z.catchall(homePath, z.unknown())).homeId));
});
