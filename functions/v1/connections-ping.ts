import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { pingConnection } from '#shared/services/connections.ts';

/** Really connects: `{ok:true, latencyMs}` or 503 `{ok:false, error}` with the driver's reason. */
export const handler = httpHandler(async (request) => {
  const result = await pingConnection(request.principal, request.params.id);
  return result.ok ? ok(result) : { status: 503, body: result };
});
