import * as z from 'zod/mini';
import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { connectionInput, testConnection } from '#shared/services/connections.ts';
import { lazySchema } from '#shared/model/validation.ts';

/** A connection without a name yet. */
const unsavedConnection = /* @__PURE__ */ lazySchema(() => z.extend(connectionInput(), { name: z._default(connectionInput().shape.name, 'test') }));

/** Pings an unsaved connection: `{"ping":"ok"}` or 503 `{"ping":"failed", "error"}`. */
export const handler = httpHandler(async (request) => {
  const result = await testConnection(request.json(unsavedConnection()));
  return result.ok ? ok({ ping: 'ok', latencyMs: result.latencyMs }) : { status: 503, body: { ping: 'failed', error: result.error } };
});
