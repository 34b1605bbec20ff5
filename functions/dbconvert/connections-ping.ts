import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { pingConnection } from '#shared/services/connections.ts';

/** `{"ping":"ok"}`, or 503 `{"ping":"failed", "error": <the driver's reason>}`. */
export const handler = httpHandler(async (request) => {
  const result = await pingConnection(request.principal, request.params.id);
  return result.ok ? ok({ ping: 'ok', latencyMs: result.latencyMs }) : { status: 503, body: { ping: 'failed', error: result.error } };
});
