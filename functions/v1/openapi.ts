import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import document from '../../docs/openapi.json' with { type: 'json' };

export const handler = httpHandler(async () => ok(document));
