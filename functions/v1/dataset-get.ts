import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { getDataset } from '#shared/services/datasets.ts';
import { datasetJson } from './dataset-shapes.ts';

export const handler = httpHandler(async (request) => ok(datasetJson(await getDataset(request.principal, request.params.id))));
