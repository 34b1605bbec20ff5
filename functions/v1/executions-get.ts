import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { getExecution } from '#shared/services/executions.ts';
import { executionJson } from './dataset-shapes.ts';

export const handler = httpHandler(async (request) =>
  ok(executionJson(await getExecution(request.principal, request.params.id, { id: request.params.eid }))),
);
