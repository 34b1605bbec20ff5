import { httpHandler } from '#shared/http/handler.ts';
import { ok } from '#shared/http/reply.ts';
import { streamDataStatus } from '#shared/services/packets.ts';
import { streamOf } from './params.ts';

/** GET .../streams/{streamName}/status: MODE omits openPacketIndex and streamOwner when there are none. */
export const handler = httpHandler(async (request) => {
  const stream = await streamOf(request);
  const status = await streamDataStatus(request.principal, stream.id);
  return ok({
    lastPacketReceivedAt: status.lastPacketReceivedAt ?? undefined,
    packetIndex: status.packetIndex,
    openPacketIndex: status.openPacketIndex ?? undefined,
    streamOwner: status.streamOwner ?? undefined,
  });
});
