import * as z from 'zod/mini';
import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { versionRef } from '#shared/model/versions.ts';
import { exportStream } from '#shared/services/versions.ts';

const query = z.object({ version: z.optional(versionRef()) });

/** A file name safe in any header and file system: `<name>-<version>.sluice.json`. */
const fileName = (name: string, version: string) => `${`${name}-${version}`.replace(/[^A-Za-z0-9._-]+/g, '_')}.sluice.json`;

/** The self-contained export document of one version (default: autosave), as a download. */
export const handler = httpHandler(async (request) => {
  const { version } = request.queryAs(query);
  const document = await exportStream(request.principal, request.params.id, version);
  return ok(document, { 'content-disposition': `attachment; filename="${fileName(document.name, document.version)}"` });
});
