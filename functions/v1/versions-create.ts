import * as z from 'zod/mini';
import { httpHandler } from '#shared/http/handler.ts';
import { created } from '#shared/http/reply.ts';
import { tagName } from '#shared/model/versions.ts';
import { tagVersion } from '#shared/services/versions.ts';

const body = z.strictObject({ tag: tagName(), description: z._default(z.string().check(z.maxLength(1024)), '') });

/** Freezes the autosaved definition as an immutable tag: 201, or 409 for a duplicate or the 101st tag. */
export const handler = httpHandler(
  async (request) => {
    const { tag, description } = request.json(body);
    const version = await tagVersion(request.principal, request.params.id, tag, { description });
    return created(
      { version: version.version, revision: version.revision, description: version.description, createdAt: version.createdAt },
      { location: `/v1/streams/${request.params.id}?version=${encodeURIComponent(version.version)}` },
    );
  },
  { idempotent: true },
);
