import { httpHandler } from '#shared/http/handler.ts';
import { created } from '#shared/http/reply.ts';
import { asInvalidData } from '#shared/services/mode.ts';
import { addSession, sessionInput } from '#shared/services/sessions.ts';
import { streamOf } from './params.ts';

/** POST .../streams/{streamName}/sessions `{start, stop}`: 201; invalid data is 403, as MODE documents. */
export const handler = httpHandler(async (request) => {
  const stream = await streamOf(request);
  const session = await asInvalidData(async () => {
    const { start, stop } = request.json(sessionInput());
    return addSession(request.principal, stream, start, stop);
  });
  return created(session);
});
