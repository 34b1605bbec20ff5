import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { getDomoStream } from '#shared/services/domo-streams.ts';
import { getDataset } from '#shared/services/datasets.ts';
import { listExecutions } from '#shared/services/executions.ts';
import { domoStreamJson } from './shapes.ts';

/** With the ten newest executions and the dataset's statistics. */
export const handler = httpHandler(async (request) => {
  const stream = await getDomoStream(request.principal, request.params.id);
  const [executions, dataset] = await Promise.all([
    listExecutions(request.principal, stream.id, 10),
    getDataset(request.principal, stream.id),
  ]);
  return ok(domoStreamJson(stream, executions.items, dataset));
});
