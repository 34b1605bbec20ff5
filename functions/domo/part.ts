import type { ApiRequest } from '#shared/http/handler.ts';
import { ok, type Reply } from '#shared/http/reply.ts';
import { domoFaceOf, getDomoStream, parseDomoId } from '#shared/services/domo-streams.ts';
import { parsePartId, uploadPart } from '#shared/services/execution-parts.ts';
import { getExecution } from '#shared/services/executions.ts';
import { domoExecutionJson } from './shapes.ts';

/** The part upload both Domo paths share: answers the execution, as Domo does. */
export async function uploadDomoPart(request: ApiRequest, rawExecutionId: string): Promise<Reply> {
  const stream = await getDomoStream(request.principal, request.params.id);
  const number = parseDomoId(rawExecutionId, 'execution id');
  const partId = parsePartId(request.params.partId);
  await uploadPart(request.principal, stream.id, { number }, partId, {
    body: request.rawBody(),
    contentType: request.headers['content-type'],
    contentEncoding: request.headers['content-encoding'],
  });
  return ok(domoExecutionJson(await getExecution(request.principal, stream.id, { number }), domoFaceOf(stream)!.id));
}
