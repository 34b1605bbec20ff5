import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { runStats } from '#shared/services/run-stats.ts';
import { getRun } from '#shared/services/runs.ts';

/** GET /v1/runs/{id}/stats: per node and totals, uptimeSeconds, avgRate. */
export const handler = httpHandler(async (request) => ok(runStats(await getRun(request.principal, request.params.id))));
