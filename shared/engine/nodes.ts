import { appendPackets, lastPacketIndex, readPackets } from '../services/packets.ts';
import { registerSink, registerSource } from './registry.ts';
import { packetSink } from './sinks/packet-sink.ts';
import { httpCollector, type PacketPort } from './sources/http-collector.ts';
// table-source, table-sink, s3-source (issue 8) register themselves.
import './nodes/register.ts';

/**
 * The built-in node implementations, registered once per Lambda: the packet
 * data plane backs http-collector and packet-sink; dataset nodes use the
 * datasets service. Other node modules register themselves the same way
 * (shared/engine/registry.ts) and are imported here.
 */
const packets: PacketPort = {
  async readPackets(streamId, afterIndex, max) {
    return (await readPackets(streamId, afterIndex, max)).map((p) => ({ index: p.index, data: p.bytes, contentType: p.contentType }));
  },
  lastPacketIndex,
};

registerSource('http-collector', (context) => httpCollector(context, packets));
registerSink('packet-sink', (context) => packetSink(context, { appendPackets }));
