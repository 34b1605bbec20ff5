import { httpHandler } from '#shared/http/handler.ts';
import { created } from '#shared/http/reply.ts';
import { createExecution, executionInput } from '#shared/services/executions.ts';
import { executionJson } from './dataset-shapes.ts';

export const handler = httpHandler(
  async (request) => {
    const execution = await createExecution(request.principal, request.params.id, request.json(executionInput()));
    return created(executionJson(execution), { location: `/v1/streams/${execution.streamId}/executions/${execution.id}` });
  },
  { idempotent: true },
);
