import { httpHandler } from '#shared/http/handler.ts';
import { created } from '#shared/http/reply.ts';
import { configInput, configJson, createConfig } from '#shared/services/dbconvert.ts';

export const handler = httpHandler(
  async (request) => created(configJson(await createConfig(request.principal, request.json(configInput())))),
  { idempotent: true },
);
