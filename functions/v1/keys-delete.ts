import { httpHandler } from '#shared/http/handler.ts';
import { noContent } from '#shared/http/reply.ts';
import { notFound } from '#shared/model/errors.ts';
import { deleteKey } from '#shared/store/keys.ts';

export const handler = httpHandler(async (request) => {
  const { keyId } = request.params;
  if (!(await deleteKey(keyId))) throw notFound(`key ${keyId}`);
  return noContent();
});
