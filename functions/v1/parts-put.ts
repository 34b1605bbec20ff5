import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { parsePartId, uploadPart } from '#shared/services/execution-parts.ts';
import { partJson } from './dataset-shapes.ts';

/** Headerless CSV (`text/csv`; gzip via Content-Encoding or application/gzip); a re-upload replaces the part. */
export const handler = httpHandler(async (request) => {
  const partId = parsePartId(request.params.partId);
  const part = await uploadPart(request.principal, request.params.id, { id: request.params.eid }, partId, {
    body: request.rawBody(),
    contentType: request.headers['content-type'],
    contentEncoding: request.headers['content-encoding'],
  });
  return ok(partJson(part));
});
