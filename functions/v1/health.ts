import { publicHandler } from '#shared/http/public.ts';
import { ok } from '#shared/http/reply.ts';

export const handler = publicHandler(async () => ok({ status: 'ok', version: process.env.SLUICE_VERSION ?? 'dev' }));
