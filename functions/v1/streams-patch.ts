import * as z from 'zod/mini';
import { httpHandler } from '#shared/http/handler.ts';
import { ok, etagOf } from '#shared/http/reply.ts';
import { namespaceName, streamName, updateStream } from '#shared/services/streams.ts';
import { mergePatch } from '#shared/model/merge-patch.ts';
import { streamJson } from './shapes.ts';

const body = z.strictObject({
  name: z.optional(streamName()),
  namespace: z.optional(namespaceName()),
  description: z.optional(z.string().check(z.maxLength(4096))),
  definition: z.optional(z.record(z.string(), z.unknown())),
});

/** PATCH is a JSON merge patch (RFC 7386) of name, namespace, description and definition. */
export const handler = httpHandler(async (request) => {
  const patch = request.json(body);
  const stream = await updateStream(
    request.principal,
    request.params.id,
    (current) => ({
      name: patch.name,
      namespace: patch.namespace,
      description: patch.description,
      definition: patch.definition === undefined ? undefined : mergePatch(current.definition, patch.definition),
    }),
    request.ifMatch(),
  );
  return ok(streamJson(stream, request.baseUrl), { etag: etagOf(stream.revision) });
});
