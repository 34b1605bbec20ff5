import { httpHandler } from '#shared/http/handler.ts';
import { created } from '#shared/http/reply.ts';
import { createDomoStream, domoStreamInput } from '#shared/services/domo-streams.ts';
import { domoStreamJson } from './shapes.ts';

export const handler = httpHandler(
  async (request) => {
    const stream = await createDomoStream(request.principal, request.json(domoStreamInput()));
    const body = domoStreamJson(stream);
    return created(body, { location: `/api/data/v1/streams/${body.id}` });
  },
  { idempotent: true },
);
