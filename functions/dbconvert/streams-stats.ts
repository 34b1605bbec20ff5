import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { getStartedStream, statsJson } from '#shared/services/dbconvert.ts';

export const handler = httpHandler(async (request) => ok(statsJson(await getStartedStream(request.principal, request.params.id))));
