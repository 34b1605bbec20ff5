import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { getRun } from '#shared/services/runs.ts';
import { runJson } from './run-shapes.ts';

export const handler = httpHandler(async (request) => ok(runJson(await getRun(request.principal, request.params.id))));
