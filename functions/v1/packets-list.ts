import * as z from 'zod/mini';
import { httpHandler } from '#shared/http/handler.ts';
import { packetIndexParam } from '#shared/http/packets.ts';
import { pageQuery } from '#shared/http/query.ts';
import { ok } from '#shared/http/reply.ts';
import { MAX_PACKET_INDEX } from '#shared/store/packets.ts';
import { listPacketEntries } from '#shared/services/packets.ts';
import { checkRange } from '#shared/services/sessions.ts';

const query = z.extend(pageQuery, { start: z._default(packetIndexParam(), 1), stop: z._default(packetIndexParam(), MAX_PACKET_INDEX) });

/** GET /v1/streams/{id}/packets?start&stop: index entries, paginated. */
export const handler = httpHandler(async (request) => {
  const { start, stop, limit, cursor } = request.queryAs(query);
  checkRange(start, stop);
  return ok(await listPacketEntries(request.principal, request.params.id, { start, stop }, limit, cursor));
});
