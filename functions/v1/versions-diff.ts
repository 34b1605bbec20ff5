import * as z from 'zod/mini';
import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { versionRef } from '#shared/model/versions.ts';
import { diffVersions } from '#shared/services/versions.ts';

const params = z.object({ id: z.string(), a: versionRef(), b: versionRef() });

/** What changed from version a to version b (either may be `autosave`). */
export const handler = httpHandler(async (request) => {
  const { id, a, b } = request.paramsAs(params);
  return ok(await diffVersions(request.principal, id, a, b));
});
