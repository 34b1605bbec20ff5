import { appendPackets, lastPacketIndex, readPackets } from '../services/packets.ts';
import { commitRows, readDatasetRows } from '../services/dataset-engine.ts';
import { getDatasetPointer } from '../store/datasets.ts';
import { getStreamRecord } from '../store/streams.ts';
import { RunConfigurationError } from './errors.ts';
import { registerSink, registerSource } from './registry.ts';
import { datasetSink } from './sinks/dataset.ts';
import { packetSink } from './sinks/packet-sink.ts';
import { datasetSource } from './sources/dataset-source.ts';
import { httpCollector, type PacketPort } from './sources/http-collector.ts';
// table-source, table-sink, s3-source (issue 8) register themselves.
import './nodes/register.ts';

/**
 * The built-in node implementations, registered once per Lambda: the packet
 * data plane backs http-collector and packet-sink, the datasets service backs
 * dataset-source and the dataset sink. Other node modules register themselves
 * the same way (shared/engine/registry.ts) and are imported here.
 */
const packets: PacketPort = {
  async readPackets(streamId, afterIndex, max) {
    return (await readPackets(streamId, afterIndex, max)).map((p) => ({ index: p.index, data: p.bytes, contentType: p.contentType }));
  },
  lastPacketIndex,
};

registerSource('http-collector', (context) => httpCollector(context, packets));
registerSource('dataset-source', (context) =>
  datasetSource(context, {
    readDatasetRows,
    datasetRowCount: async (streamId) => (await getDatasetPointer(streamId)).rows,
    streamSolution: async (streamId) => (await getStreamRecord(streamId))?.solutionId,
  }),
);
registerSink('dataset', (context) => datasetSink(context, { commitRows }));
registerSink('packet-sink', async (context) => {
  const target = await getStreamRecord(String(context.node.config.streamId));
  if (!target || target.solutionId !== context.stream.solutionId) {
    throw new RunConfigurationError(`node ${context.node.id}: stream ${String(context.node.config.streamId)} does not exist`);
  }
  return packetSink(context, { appendPackets });
});
