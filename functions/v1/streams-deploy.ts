import * as z from 'zod/mini';
import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { versionRef } from '#shared/model/versions.ts';
import { deployStream } from '#shared/services/deployments.ts';

const body = z.strictObject({ version: versionRef() });

/** Deploys a tag (never autosave) after checking its references; arms its schedule. */
export const handler = httpHandler(async (request) => {
  const { version } = request.json(body);
  const deployment = await deployStream(request.principal, request.params.id, version);
  return ok({ streamId: request.params.id, ...deployment });
});
