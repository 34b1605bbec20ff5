import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { domoFaceOf, getDomoStream, parseDomoId } from '#shared/services/domo-streams.ts';
import { executionInput, updateExecution } from '#shared/services/executions.ts';
import { domoExecutionJson } from './shapes.ts';

/** `{"updateMethod":"REPLACE"}` (and keyColumnNames) on an ACTIVE execution; 409 once it ended. */
export const handler = httpHandler(async (request) => {
  const stream = await getDomoStream(request.principal, request.params.id);
  const number = parseDomoId(request.params.executionId, 'execution id');
  const execution = await updateExecution(request.principal, stream.id, { number }, request.json(executionInput()));
  return ok(domoExecutionJson(execution, domoFaceOf(stream)!.id));
});
