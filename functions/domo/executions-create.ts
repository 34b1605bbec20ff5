import { httpHandler } from '#shared/http/handler.ts';
import { created } from '#shared/http/reply.ts';
import { domoFaceOf, getDomoStream } from '#shared/services/domo-streams.ts';
import { createExecution, executionInput } from '#shared/services/executions.ts';
import { domoExecutionJson } from './shapes.ts';

/** Body (optional): `{"updateMethod":"REPLACE"}` overrides the stream's method for this execution. */
export const handler = httpHandler(
  async (request) => {
    const stream = await getDomoStream(request.principal, request.params.id);
    const execution = await createExecution(request.principal, stream.id, request.json(executionInput()));
    return created(domoExecutionJson(execution, domoFaceOf(stream)!.id));
  },
  { idempotent: true },
);
