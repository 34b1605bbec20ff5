import { createHash } from 'node:crypto';
import { conflict, invalid, notFound, unavailable } from '../model/errors.ts';
import type { Principal } from '../model/principal.ts';
import {
  bundleKey,
  bundleStreamName,
  buildBundle,
  getObjectBytes,
  packetObjectKey,
  presignDownload,
  putPacketObject,
  sha256Hex,
} from '../blobs/packets.ts';
import {
  commitPackets,
  getAppendMarker,
  getDataStatus,
  iteratePacketEntries,
  queryPacketEntries,
  releaseLease,
  takeLease,
  type Actor,
  type DataStatus,
  type NewPacket,
  type PacketEntry,
} from '../store/packets.ts';
import { getStreamRecord, type StreamRecord } from '../store/streams.ts';
import type { Page } from '../store/pagination.ts';
import { getStream } from './streams.ts';
import { holdSessionsOverlapping } from './sessions.ts';

/**
 * The packet data plane: append (gapless indexes), read, status, writer lease
 * and range downloads. docs/packets.md explains the protocol.
 */

/** One batch commits in one transaction: 1 status item + packets + 1 idempotency marker <= 100 items. */
export const MAX_BATCH_PACKETS = 98;
export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
const S3_PUT_CONCURRENCY = 8;
/** An append that keeps losing races for this long answers 503 (the client may retry). */
const APPEND_DEADLINE_MS = 20_000;

export interface PacketInput {
  bytes: Buffer;
  contentType?: string;
}

export interface AppendOptions {
  /** Who writes: `{type:'key', id}` for API keys, `{type:'run', id}` for a packet-sink. */
  source: Actor;
  /**
   * Makes the append exactly-once: a repeat with the same token returns the
   * first append's indexes instead of appending again (kept 7 days). A
   * packet-sink passes `${runId}:${bundle}`; HTTP passes the Idempotency-Key.
   */
  idempotencyToken?: string;
}

export interface AppendedPacket {
  index: number;
  size: number;
  contentType: string;
  receivedAt: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

const digestOf = (packets: PacketInput[]) => {
  const hash = createHash('sha256');
  for (const packet of packets) hash.update(`${packet.bytes.length}:${packet.contentType ?? ''}:`).update(packet.bytes);
  return hash.digest('hex');
};

const ownerConflict = (status: DataStatus) =>
  conflict(`stream is owned by ${status.owner!.type} ${status.owner!.id} until ${status.owner!.expiresAt}; other writers are refused`);

const heldByOther = (status: DataStatus, writer: Actor) =>
  status.owner !== null && status.owner.until >= Date.now() && !(status.owner.type === writer.type && status.owner.id === writer.id);

/**
 * Appends packets to a stream as consecutive indexes, all or nothing.
 * 1. The bytes go to S3 first, content addressed (an unreferenced object is
 *    the worst a crash can leave).
 * 2. One transaction moves `packetIndex` from n to n+k and creates the index
 *    entries n+1..n+k; losing a race re-reads and tries again. A packet is
 *    received exactly when that transaction commits: no gap, no reuse.
 */
async function appendToStream(stream: StreamRecord, packets: PacketInput[], options: AppendOptions): Promise<AppendedPacket[]> {
  if (packets.length === 0) throw invalid('at least one packet is required');
  if (packets.length > MAX_BATCH_PACKETS) throw invalid(`at most ${MAX_BATCH_PACKETS} packets per batch; got ${packets.length}`);
  const marker = options.idempotencyToken ? { token: createHash('sha256').update(options.idempotencyToken).digest('hex'), bodyHash: digestOf(packets) } : undefined;
  if (marker) {
    const replay = await replayOf(stream.id, marker);
    if (replay) return replay;
  }
  const prepared: Omit<NewPacket, 'receivedAt'>[] = await mapLimit(packets, S3_PUT_CONCURRENCY, async (packet) => {
    const sha256 = sha256Hex(packet.bytes);
    const contentType = packet.contentType || DEFAULT_CONTENT_TYPE;
    const objectKey = packetObjectKey(stream.solutionId, stream.id, sha256);
    await putPacketObject(objectKey, packet.bytes, contentType);
    return { size: packet.bytes.length, contentType, source: options.source, objectKey, sha256 };
  });

  const deadline = Date.now() + APPEND_DEADLINE_MS;
  let status: DataStatus | undefined;
  for (let attempt = 0; Date.now() < deadline; attempt++) {
    status ??= await getDataStatus(stream.id);
    if (heldByOther(status, options.source)) throw ownerConflict(status);
    const receivedAt = new Date().toISOString();
    const outcome = await commitPackets(
      stream.id,
      status.packetIndex,
      prepared.map((packet) => ({ ...packet, receivedAt })),
      options.source,
      marker,
    );
    if (outcome.ok) return outcome.entries.map(appended);
    if (outcome.reason === 'replayed') return (await replayOf(stream.id, marker!))!;
    // Lost a race: start over from what the winner left (returned with the
    // cancellation when the emulator/DynamoDB provides it, else re-read).
    status = outcome.reason === 'stale' ? outcome.status : undefined;
    if (outcome.reason === 'contention' || attempt > 3) await sleep(Math.random() * Math.min(50, 2 ** Math.min(attempt, 6)));
  }
  throw unavailable('the stream is receiving too many concurrent appends; retry shortly');
}

const appended = (entry: PacketEntry): AppendedPacket => ({ index: entry.index, size: entry.size, contentType: entry.contentType, receivedAt: entry.receivedAt });

async function replayOf(streamId: string, marker: { token: string; bodyHash: string }): Promise<AppendedPacket[] | undefined> {
  const previous = await getAppendMarker(streamId, marker.token);
  if (!previous) return undefined;
  if (previous.bodyHash !== marker.bodyHash) throw conflict('this idempotency key was used with different packets');
  const page = await queryPacketEntries(streamId, previous.first, previous.last, previous.last - previous.first + 1);
  return page.items.map(appended);
}

/**
 * Service-level append for the run engine's packet-sink (no HTTP, no tenancy
 * check: the engine already resolved the stream). More than MAX_BATCH_PACKETS
 * packets are committed in chunks, each all or nothing.
 */
export async function appendPackets(streamId: string, packets: PacketInput[], options: AppendOptions): Promise<AppendedPacket[]> {
  const stream = await getStreamRecord(streamId);
  if (!stream) throw notFound(`stream ${streamId}`);
  const out: AppendedPacket[] = [];
  for (let i = 0, chunk = 0; i < packets.length; i += MAX_BATCH_PACKETS, chunk++) {
    const token = options.idempotencyToken === undefined ? undefined : `${options.idempotencyToken}#${chunk}`;
    out.push(...(await appendToStream(stream, packets.slice(i, i + MAX_BATCH_PACKETS), { ...options, idempotencyToken: token })));
  }
  return out;
}

/** HTTP append by an API key (one packet or one batch, all or nothing). */
export async function appendPacketsAs(principal: Principal, streamId: string, packets: PacketInput[], idempotencyKey?: string): Promise<AppendedPacket[]> {
  const stream = await getStream(principal, streamId);
  const token = idempotencyKey === undefined ? undefined : `key:${principal.keyId}:${idempotencyKey}`;
  return appendToStream(stream, packets, { source: { type: 'key', id: principal.keyId }, idempotencyToken: token });
}

export interface ReadPacket {
  index: number;
  bytes: Buffer;
  contentType: string;
  receivedAt: string;
}

/**
 * Committed packets after `afterIndex`, in index order, at most `max`. The run
 * engine's http-collector source reads with this; the API is kept stable.
 */
export async function readPackets(streamId: string, afterIndex: number, max: number): Promise<ReadPacket[]> {
  if (max <= 0) return [];
  const entries: PacketEntry[] = [];
  let cursor: string | undefined;
  do {
    const page = await queryPacketEntries(streamId, afterIndex + 1, Number.MAX_SAFE_INTEGER, max - entries.length, cursor);
    entries.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && entries.length < max);
  return mapLimit(entries, S3_PUT_CONCURRENCY, async (entry) => ({
    index: entry.index,
    bytes: await getObjectBytes(entry.objectKey),
    contentType: entry.contentType,
    receivedAt: entry.receivedAt,
  }));
}

/** The last committed packet index of a stream (0 when it has none). */
export async function lastPacketIndex(streamId: string): Promise<number> {
  return (await getDataStatus(streamId)).packetIndex;
}

export interface StatusView {
  lastPacketReceivedAt: string | null;
  packetIndex: number;
  openPacketIndex: number | null;
  streamOwner: { type: string; id: string; expiresAt: string } | null;
}

export function statusView(status: DataStatus): StatusView {
  const live = status.owner && status.owner.until >= Date.now() ? status.owner : null;
  return {
    lastPacketReceivedAt: status.lastPacketReceivedAt,
    packetIndex: status.packetIndex,
    openPacketIndex: status.openPacketIndex,
    streamOwner: live ? { type: live.type, id: live.id, expiresAt: live.expiresAt } : null,
  };
}

export async function streamDataStatus(principal: Principal, streamId: string): Promise<StatusView> {
  const stream = await getStream(principal, streamId);
  return statusView(await getDataStatus(stream.id));
}

export const MAX_LEASE_SECONDS = 24 * 3600;

export async function takeOwnership(principal: Principal, streamId: string, ttlSeconds: number): Promise<StatusView> {
  const stream = await getStream(principal, streamId);
  const outcome = await takeLease(stream.id, { type: 'key', id: principal.keyId }, ttlSeconds);
  if (!outcome.ok) throw ownerConflict(outcome.status);
  return statusView(outcome.status);
}

export async function releaseOwnership(principal: Principal, streamId: string): Promise<void> {
  const stream = await getStream(principal, streamId);
  const outcome = await releaseLease(stream.id, { type: 'key', id: principal.keyId });
  if (!outcome.ok) throw ownerConflict(outcome.status);
}

export interface PacketEntryView {
  index: number;
  size: number;
  contentType: string;
  receivedAt: string;
  source: Actor;
}

export async function listPacketEntries(
  principal: Principal,
  streamId: string,
  range: { start: number; stop: number },
  limit: number,
  cursor?: string,
): Promise<Page<PacketEntryView>> {
  const stream = await getStream(principal, streamId);
  const page = await queryPacketEntries(stream.id, range.start, range.stop, limit, cursor);
  return {
    items: page.items.map((e) => ({ index: e.index, size: e.size, contentType: e.contentType, receivedAt: e.receivedAt, source: e.source })),
    nextCursor: page.nextCursor,
  };
}

/**
 * The download URL of packets start..stop (inclusive). `stop` beyond the last
 * packet is clamped to it (so the built bundle is immutable and reusable); a
 * range holding no packet is 404. The bundle is built once per range and
 * stream name, then served from S3 by a presigned URL.
 */
export async function packetDownloadUrl(stream: StreamRecord, start: number, stop: number): Promise<string> {
  if (start > stop) throw invalid(`start (${start}) is after stop (${stop})`, [{ path: 'start', message: 'start must be <= stop' }]);
  const last = (await getDataStatus(stream.id)).packetIndex;
  const first = Math.max(start, 1);
  const end = Math.min(stop, last);
  if (first > end) throw notFound(`packets ${start}..${stop} of stream ${stream.name} (it has ${last} packets)`);
  const key = bundleKey(stream.solutionId, stream.id, first, end);
  if ((await bundleStreamName(key)) !== stream.name) {
    const release = await holdSessionsOverlapping(stream.id, first, end);
    try {
      await buildBundle(key, stream.name, iteratePacketEntries(stream.id, first, end));
    } finally {
      await release();
    }
  }
  return presignDownload(key, `${stream.name}-${first}-${end}.msgpack`);
}

export async function packetDownloadUrlAs(principal: Principal, streamId: string, start: number, stop: number): Promise<string> {
  return packetDownloadUrl(await getStream(principal, streamId), start, stop);
}
