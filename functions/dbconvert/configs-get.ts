import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { configJson, getConfig } from '#shared/services/dbconvert.ts';

export const handler = httpHandler(async (request) => ok(configJson(await getConfig(request.principal, request.params.id))));
