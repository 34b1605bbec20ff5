import * as z from 'zod/mini';
import { httpHandler } from '#shared/http/handler.ts';
import { created } from '#shared/http/reply.ts';
import { SCOPES } from '#shared/model/principal.ts';
import { notFound } from '#shared/model/errors.ts';
import { createKey } from '#shared/services/keys.ts';
import { getSolution } from '#shared/store/solutions.ts';

const body = z.object({
  name: z.string().check(z.trim(), z.minLength(1), z.maxLength(128)),
  scopes: z.array(z.enum(SCOPES)).check(z.minLength(1)),
  solutionId: z.optional(z.string()),
});

export const handler = httpHandler(
  async (request) => {
    const input = request.json(body);
    const solutionId = input.solutionId ?? request.principal.solutionId;
    if (!(await getSolution(solutionId))) throw notFound(`solution ${solutionId}`);
    const { record, key } = await createKey({ solutionId, name: input.name, scopes: input.scopes });
    return created({ id: record.id, key, name: record.name, scopes: record.scopes, solutionId, createdAt: record.createdAt });
  },
  { idempotent: true },
);
