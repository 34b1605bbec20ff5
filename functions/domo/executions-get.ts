import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { domoFaceOf, getDomoStream, parseDomoId } from '#shared/services/domo-streams.ts';
import { getExecution } from '#shared/services/executions.ts';
import { domoExecutionJson } from './shapes.ts';

export const handler = httpHandler(async (request) => {
  const stream = await getDomoStream(request.principal, request.params.id);
  const number = parseDomoId(request.params.executionId, 'execution id');
  return ok(domoExecutionJson(await getExecution(request.principal, stream.id, { number }), domoFaceOf(stream)!.id));
});
