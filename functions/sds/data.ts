import { httpHandler } from '#shared/http/handler.ts';
import { rangeQuery } from '#shared/http/packets.ts';
import { redirect } from '#shared/http/reply.ts';
import { packetDownloadUrl } from '#shared/services/packets.ts';
import { streamOf } from './params.ts';

/** GET .../streams/{streamName}/data?start&stop: 302, the bundle's URL in Location. */
export const handler = httpHandler(async (request) => {
  const { start, stop } = request.queryAs(rangeQuery());
  return redirect(await packetDownloadUrl(await streamOf(request), start, stop));
});
