import { httpHandler } from '#shared/http/handler.ts';
import { created } from '#shared/http/reply.ts';
import { startRun } from '#shared/services/runs.ts';
import { runJson } from './run-shapes.ts';

/** POST /v1/streams/{id}/start: a run of the deployed tag, else the autosaved version; 409 while a run is active. */
export const handler = httpHandler(
  async (request) => {
    const run = await startRun(request.principal, request.params.id, { trigger: 'api' });
    return created(runJson(run), { location: `/v1/runs/${run.id}` });
  },
  { idempotent: true },
);
