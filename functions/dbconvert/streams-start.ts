import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { startConfig, startedJson } from '#shared/services/dbconvert.ts';

/** `POST /streams/{config_id}/start` and `POST /stream-configs/{config_id}/start`: `{id: stream_…, status: "RUNNING", started}`; 409 while running. */
export const handler = httpHandler(async (request) => ok(startedJson(await startConfig(request.principal, request.params.id))), {
  idempotent: true,
});
