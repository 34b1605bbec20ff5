import { decodePacket, type Entry, type Format } from '../formats.ts';
import type { BoundedSourceReader, DataRecord, NodeContext, RecordFailure, SourceOffset } from '../types.ts';

/**
 * The http-collector source: the stream's own packet log, decoded per the
 * node's `format`. Its offset is `{packet, entry}`: every packet up to
 * `packet` is consumed, and `entry` entries of packet `packet + 1` too, so a
 * bundle may end in the middle of a packet.
 */
export interface PacketPort {
  readPackets(streamId: string, afterIndex: number, max: number): Promise<{ index: number; data: Buffer; contentType?: string }[]>;
  lastPacketIndex(streamId: string): Promise<number>;
}

interface CollectorOffset {
  packet: number;
  entry: number;
}

const PACKETS_PER_READ = 100;
/** Decoded packets are immutable; keep the last few per Lambda instance so a bundle boundary inside a packet costs no re-read. */
const cache = new Map<string, { entries: Entry[]; bytes: number }>();
const CACHE_LIMIT = 256;

function remember(key: string, value: { entries: Entry[]; bytes: number }) {
  cache.set(key, value);
  if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value!);
}

const toOffset = (offset: SourceOffset | undefined | null): CollectorOffset => ({
  packet: Number(offset?.packet ?? 0),
  entry: Number(offset?.entry ?? 0),
});

export function httpCollector(context: NodeContext, port: PacketPort): BoundedSourceReader {
  const streamId = context.stream.id;
  const format = (context.node.config.format as Format | undefined) ?? 'ndjson';
  const columns = context.node.config.columns as string[] | undefined;
  return {
    async bound() {
      return { packet: await port.lastPacketIndex(streamId), entry: 0 };
    },
    async read(offset, max, until) {
      const position = toOffset(offset);
      const limit = until ? Number(until.packet) : Number.POSITIVE_INFINITY;
      const records: DataRecord[] = [];
      const failures: RecordFailure[] = [];
      let bytes = 0;
      let taken = 0;
      let exhausted = false;
      while (taken < max) {
        if (position.packet >= limit) {
          exhausted = true;
          break;
        }
        const wanted = Math.min(PACKETS_PER_READ, limit - position.packet);
        const first = position.packet + 1;
        const decoded: { index: number; entries: Entry[]; bytes: number }[] = [];
        // Packets already decoded by this Lambda instance first, then one read for the rest.
        let needed = max - taken + position.entry;
        for (let index = first; index <= Math.min(limit, first + wanted - 1) && needed > 0; index++) {
          const cached = cache.get(`${streamId}#${format}#${index}`);
          if (!cached) break;
          decoded.push({ index, ...cached });
          needed -= cached.entries.length;
        }
        if (needed > 0 && decoded.length < wanted) {
          const after = position.packet + decoded.length;
          const packets = await port.readPackets(streamId, after, Math.min(wanted - decoded.length, PACKETS_PER_READ));
          for (const packet of packets) {
            if (packet.index > limit) break;
            const value = { entries: await decodePacket(packet.data, format, { index: packet.index, contentType: packet.contentType, columns }), bytes: packet.data.length };
            remember(`${streamId}#${format}#${packet.index}`, value);
            decoded.push({ index: packet.index, ...value });
          }
        }
        if (decoded.length === 0) {
          exhausted = true;
          break;
        }
        for (const packet of decoded) {
          if (packet.index !== position.packet + 1) break; // never skip a gap: wait for it
          // An offset set by hand may name more entries than the packet has: then it is read.
          const remaining = Math.max(0, packet.entries.length - position.entry);
          const take = Math.min(remaining, max - taken);
          for (const entry of packet.entries.slice(position.entry, position.entry + take)) {
            if ('record' in entry) records.push(entry.record);
            else failures.push(entry.failure);
          }
          // Bytes are counted once, when the packet's first entry is read.
          if (position.entry === 0 && take > 0) bytes += packet.bytes;
          taken += take;
          if (take === remaining) {
            position.packet = packet.index;
            position.entry = 0;
          } else {
            position.entry += take;
            break;
          }
          if (taken >= max) break;
        }
      }
      return { records, failures, offset: { ...position }, bytes, exhausted: exhausted && taken < max };
    },
  };
}
