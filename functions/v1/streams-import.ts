import * as z from 'zod/mini';
import { httpHandler } from '#shared/http/handler.ts';
import { created, etagOf, ok } from '#shared/http/reply.ts';
import { importDocument, importStream, ON_CONFLICT } from '#shared/services/imports.ts';
import { streamJson } from './shapes.ts';

const query = z.object({
  onConflict: z._default(z.enum(ON_CONFLICT), 'fail'),
  allowNodeDeletions: z.pipe(z._default(z.enum(['true', 'false']), 'false'), z.transform((value) => value === 'true')),
  solutionId: z.optional(z.string().check(z.minLength(1))),
});

/** Imports an export document: 201 created/renamed, 200 overwritten/skipped. */
export const handler = httpHandler(
  async (request) => {
    const options = request.queryAs(query);
    const document = request.json(importDocument());
    const { result, stream } = await importStream(request.principal, document, options);
    const body = { result, stream: streamJson(stream, request.baseUrl) };
    const headers = { etag: etagOf(stream.revision), location: `/v1/streams/${stream.id}` };
    return result === 'created' || result === 'renamed' ? created(body, headers) : ok(body, headers);
  },
  { idempotent: true },
);
