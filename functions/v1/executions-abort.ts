import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { abortExecution } from '#shared/services/execution-parts.ts';
import { executionJson } from './dataset-shapes.ts';

export const handler = httpHandler(async (request) =>
  ok(executionJson(await abortExecution(request.principal, request.params.id, { id: request.params.eid }))),
);
