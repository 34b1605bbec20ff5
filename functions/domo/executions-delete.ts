import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { domoFaceOf, getDomoStream, parseDomoId } from '#shared/services/domo-streams.ts';
import { abortExecution } from '#shared/services/execution-parts.ts';
import { domoExecutionJson } from './shapes.ts';

/** Deleting an ACTIVE execution aborts it (its parts are discarded); the execution is answered ABORTED. */
export const handler = httpHandler(async (request) => {
  const stream = await getDomoStream(request.principal, request.params.id);
  const number = parseDomoId(request.params.executionId, 'execution id');
  return ok(domoExecutionJson(await abortExecution(request.principal, stream.id, { number }), domoFaceOf(stream)!.id));
});
