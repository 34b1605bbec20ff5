import * as z from 'zod/mini';
import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { connectionInput, testConnection } from '#shared/services/connections.ts';

/** Pings an unsaved connection: `{"ping":"ok"}` or 503 `{"ping":"failed", "error"}`. */
export const handler = httpHandler(async (request) => {
  const result = await testConnection(request.json(z.extend(connectionInput, { name: z._default(connectionInput.shape.name, 'test') })));
  return result.ok ? ok({ ping: 'ok', latencyMs: result.latencyMs }) : { status: 503, body: { ping: 'failed', error: result.error } };
});
