import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';

export const handler = httpHandler(async () => ok({ ping: 'ok' }));
