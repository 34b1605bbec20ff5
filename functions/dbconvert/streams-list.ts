import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { listStartedStreams, startedJson } from '#shared/services/dbconvert.ts';

export const handler = httpHandler(async (request) => ok((await listStartedStreams(request.principal)).map(startedJson)));
