import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { openApiDocument } from '#shared/http/openapi.ts';

let document: unknown;

export const handler = httpHandler(async () => ok((document ??= openApiDocument())));
