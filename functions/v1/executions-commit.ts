import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { commitExecution } from '#shared/services/execution-commit.ts';
import { executionInput } from '#shared/services/executions.ts';
import { executionJson } from './dataset-shapes.ts';

/** Body (optional): `{updateMethod?, keyColumnNames?}` overriding the execution's method. */
export const handler = httpHandler(async (request) => {
  const override = request.json(executionInput());
  return ok(executionJson(await commitExecution(request.principal, request.params.id, { id: request.params.eid }, override)));
});
