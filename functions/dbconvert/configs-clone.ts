import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { cloneConfig, configJson } from '#shared/services/dbconvert.ts';

export const handler = httpHandler(async (request) => ok(configJson(await cloneConfig(request.principal, request.params.id))));
