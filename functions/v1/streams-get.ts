import * as z from 'zod/mini';
import { httpHandler } from '#shared/http/handler.ts';
import { ok, etagOf } from '#shared/http/reply.ts';
import { versionRef } from '#shared/model/versions.ts';
import { getStream } from '#shared/services/streams.ts';
import { resolveVersion } from '#shared/services/versions.ts';
import { selectFields, streamJson } from './shapes.ts';

const query = z.object({ fields: z.optional(z.string()), version: z.optional(versionRef()) });

/**
 * `?version=<tag>` answers the stream with that tag's definition and a
 * `version` field (`autosave` is the stream as it is); `?fields=` trims it.
 */
export const handler = httpHandler(async (request) => {
  const { fields, version } = request.queryAs(query);
  const stream = await getStream(request.principal, request.params.id);
  let body: Record<string, unknown> = streamJson(stream, request.baseUrl);
  if (version !== undefined) {
    const resolved = await resolveVersion(stream, version);
    body = { ...streamJson({ ...stream, definition: resolved.definition }, request.baseUrl), version: resolved.version, versionRevision: resolved.revision };
  }
  return ok(fields ? selectFields(body, fields) : body, { etag: etagOf(stream.revision) });
});
