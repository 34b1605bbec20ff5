import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { configJson, listConfigs } from '#shared/services/dbconvert.ts';

export const handler = httpHandler(async (request) => ok((await listConfigs(request.principal)).map(configJson)));
