import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { invalid } from '#shared/model/errors.ts';
import { domoFaceOf, getDomoStream, parseDomoId } from '#shared/services/domo-streams.ts';
import { commitExecution } from '#shared/services/execution-commit.ts';
import { abortExecution } from '#shared/services/execution-parts.ts';
import { executionInput } from '#shared/services/executions.ts';
import { domoExecutionJson } from './shapes.ts';

/** PUT .../data/{dataId}/commit (body may carry `{"updateMethod":"REPLACE"}`) or .../abort. */
export const handler = httpHandler(async (request) => {
  const { action } = request.params;
  if (action !== 'commit' && action !== 'abort') throw invalid(`action ${action} is not commit or abort`, [{ path: 'action', message: 'commit or abort' }]);
  const stream = await getDomoStream(request.principal, request.params.id);
  const ref = { number: parseDomoId(request.params.dataId, 'execution id') };
  const execution =
    action === 'commit'
      ? await commitExecution(request.principal, stream.id, ref, request.json(executionInput()))
      : await abortExecution(request.principal, stream.id, ref);
  return ok(domoExecutionJson(execution, domoFaceOf(stream)!.id));
});
