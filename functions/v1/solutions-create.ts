import * as z from 'zod/mini';
import { httpHandler } from '#shared/http/handler.ts';
import { created } from '#shared/http/reply.ts';
import { createSolution } from '#shared/services/solutions.ts';

const body = z.object({ name: z.string().check(z.trim(), z.minLength(1), z.maxLength(128)) });

export const handler = httpHandler(
  async (request) => {
    const { name } = request.json(body);
    return created(await createSolution(name));
  },
  { idempotent: true },
);
