import { invalid, tooLarge } from '../model/errors.ts';
import type { Principal } from '../model/principal.ts';
import { queryMetadata, upsertMetadata, type MetadataRecord } from '../store/metadata.ts';
import { getDataStatus } from '../store/packets.ts';
import type { Page } from '../store/pagination.ts';
import type { StreamRecord } from '../store/streams.ts';
import { checkRange } from './sessions.ts';

/** A metadata item stays far below DynamoDB's 400 KB item limit. */
export const MAX_METADATA_BYTES = 256 * 1024;

/**
 * Upserts the metadata packet of a known data packet (400 for an index beyond
 * the last packet, or content that is not a JSON object).
 */
export async function putMetadata(
  principal: Principal,
  stream: StreamRecord,
  packetIndex: number,
  content: unknown,
): Promise<{ record: MetadataRecord; created: boolean }> {
  if (content === null || typeof content !== 'object' || Array.isArray(content)) {
    throw invalid('metadata content must be a JSON object', [{ path: '', message: 'expected an object' }]);
  }
  const size = Buffer.byteLength(JSON.stringify(content));
  if (size > MAX_METADATA_BYTES) throw tooLarge(`metadata is ${size} bytes; at most ${MAX_METADATA_BYTES} are accepted`);
  const last = (await getDataStatus(stream.id)).packetIndex;
  if (packetIndex < 1 || packetIndex > last) {
    throw invalid(`packet ${packetIndex} does not exist; the stream has packets 1..${last}`, [{ path: 'packetIndex', message: `outside 1..${last}` }]);
  }
  return upsertMetadata(stream.id, packetIndex, content as Record<string, unknown>, { type: 'key', id: principal.keyId });
}

export async function listMetadata(stream: StreamRecord, start: number, stop: number, limit: number, cursor?: string): Promise<Page<MetadataRecord>> {
  checkRange(start, stop);
  return queryMetadata(stream.id, start, stop, limit, cursor);
}
