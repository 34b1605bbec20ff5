import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { getSessionOf } from '#shared/services/sessions.ts';
import { streamOf } from './params.ts';

/** GET .../streams/{streamName}/sessions/{sessionId} */
export const handler = httpHandler(async (request) => ok(await getSessionOf(await streamOf(request), request.params.sessionId)));
