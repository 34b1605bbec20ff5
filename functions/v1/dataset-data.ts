import { httpHandler } from '#shared/http/handler.ts';
import { redirect } from '#shared/http/reply.ts';
import { datasetDownloadUrl } from '#shared/services/datasets.ts';

/** 302 to the current version's CSV; the object is immutable, so a started download stays whole. */
export const handler = httpHandler(async (request) => {
  const { url, version } = await datasetDownloadUrl(request.principal, request.params.id);
  const reply = redirect(url);
  return { ...reply, headers: { ...reply.headers, 'x-dataset-version': String(version) } };
});
