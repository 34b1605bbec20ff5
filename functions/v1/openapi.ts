import { publicHandler } from '#shared/http/public.ts';
import { ok } from '#shared/http/reply.ts';

export const handler = publicHandler(async () => {
  const { openApiJson } = await import('#shared/http/openapi-json.ts');
  return ok(await openApiJson(), { 'content-type': 'application/json; charset=utf-8' });
});
