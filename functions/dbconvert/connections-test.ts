import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';

/**
 * Pings an unsaved connection: `{"ping":"ok"}` or 503 `{"ping":"failed", "error"}`.
 * The validation (zod) loads with the first test, as the database drivers do:
 * nothing else in this function uses it, so a cold start does not pay for it.
 */
export const handler = httpHandler(async (request) => {
  const { testConnection, unsavedConnection } = await import('#shared/services/connection-test.ts');
  const result = await testConnection(request.json(unsavedConnection()));
  return result.ok ? ok({ ping: 'ok', latencyMs: result.latencyMs }) : { status: 503, body: { ping: 'failed', error: result.error } };
});
