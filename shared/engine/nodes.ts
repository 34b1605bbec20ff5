import { registerSource } from './registry.ts';
import { httpCollector, type PacketPort } from './sources/http-collector.ts';
// table-source, table-sink, s3-source (issue 8) register themselves.
import './nodes/register.ts';

/**
 * The built-in node implementations, registered once per Lambda. The packet
 * data plane (services/packets.ts) backs the http-collector; dataset nodes use
 * the datasets service.
 */
let packets: PacketPort | undefined;

/** Where the http-collector reads packets (the packets service; tests may pass an in-memory log). */
export function usePacketPort(port: PacketPort): void {
  packets = port;
}

registerSource('http-collector', (context) => {
  if (!packets) throw new Error('no packet store is configured for the http-collector');
  return httpCollector(context, packets);
});
