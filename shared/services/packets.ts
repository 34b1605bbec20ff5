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
import { monotonicFactory } from 'ulid';
import {
  getReceipt,
  getDataStatus,
  getPending,
  groupCommit,
  MAX_TRANSACTION_ITEMS,
  parkAppend,
  readDataLog,
  iteratePacketEntries,
  queryPacketEntries,
  releaseLease,
  takeLease,
  type Actor,
  type DataStatus,
  type NewPacket,
  type PacketEntry,
  type PendingAppend,
} from '../store/packets.ts';
import { getStreamRecord, type StreamRecord } from '../store/streams.ts';
import type { Page } from '../store/pagination.ts';
import { getStream } from './streams.ts';
import { holdSessionsOverlapping } from './sessions.ts';

/**
 * The packet data plane: append (gapless indexes), read, status, writer lease
 * and range downloads. docs/packets.md explains the protocol.
 */

/** One batch commits in one transaction: 1 status item + its entries + 2 (pending delete, receipt) <= 100 items. */
export const MAX_BATCH_PACKETS = 97;
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

const ulid = monotonicFactory();
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

/**
 * Appends packets to a stream as consecutive indexes, all or nothing.
 * 1. The bytes go to S3 first, content addressed (an unreferenced object is
 *    the worst a crash can leave).
 * 2. The append is parked as a pending item (with its idempotency marker).
 * 3. Group commit: the writer reads the status and the oldest waiting appends
 *    and commits them all in one transaction that moves `packetIndex` from n
 *    to n+k and creates the index entries n+1..n+k. Losing the race is fine:
 *    the winner most likely committed this append too. A packet is received
 *    exactly when that transaction commits: no gap, no reuse, no duplicate.
 */
async function appendToStream(stream: StreamRecord, packets: PacketInput[], options: AppendOptions): Promise<AppendedPacket[]> {
  if (packets.length === 0) throw invalid('at least one packet is required');
  if (packets.length > MAX_BATCH_PACKETS) throw invalid(`at most ${MAX_BATCH_PACKETS} packets per batch; got ${packets.length}`);
  const marker = options.idempotencyToken ? { token: createHash('sha256').update(options.idempotencyToken).digest('hex'), bodyHash: digestOf(packets) } : undefined;
  const prepared: NewPacket[] = await mapLimit(packets, S3_PUT_CONCURRENCY, async (packet) => {
    const sha256 = sha256Hex(packet.bytes);
    const contentType = packet.contentType || DEFAULT_CONTENT_TYPE;
    const objectKey = packetObjectKey(stream.solutionId, stream.id, sha256);
    await putPacketObject(objectKey, packet.bytes, contentType);
    return { size: packet.bytes.length, contentType, source: options.source, objectKey, sha256 };
  });
  let pendingId = ulid();
  const parked = await parkAppend(
    stream.id,
    { id: pendingId, writer: options.source, packets: prepared, createdAt: new Date().toISOString(), token: marker ? true : undefined },
    marker,
  );
  if (!parked.parked) {
    if (parked.marker.bodyHash !== marker!.bodyHash) throw conflict('this idempotency key was used with different packets');
    pendingId = parked.marker.pendingId;
  }
  const result = await awaitCommit(stream.id, pendingId);
  if (result.rejected) throw conflict(result.rejected);
  return result.packets.map((packet, i) => ({ index: result.assignedFirst! + i, size: packet.size, contentType: packet.contentType, receivedAt: result.receivedAt! }));
}

/**
 * How many times a writer lets the writer of an older waiting append commit
 * for it before committing itself; each wait is about one round trip to
 * DynamoDB (measured), so polling adapts to how loaded the table is.
 */
const LEADER_PATIENCE = 3;

/**
 * Waits until this append has its indexes (or was refused), committing when
 * it is the oldest waiting append (the natural leader: it commits everything
 * waiting behind it) or when the leader seems gone.
 */
async function awaitCommit(streamId: string, pendingId: string): Promise<PendingAppend> {
  const deadline = Date.now() + APPEND_DEADLINE_MS;
  let patience = 0;
  for (let attempt = 0; Date.now() < deadline; attempt++) {
    const readStarted = Date.now();
    const { status, pending: waiting } = await readDataLog(streamId);
    const roundTrip = Math.max(2, Date.now() - readStarted);
    const own = waiting.find((p) => p.id === pendingId);
    if (!own) {
      // Settled by someone (its receipt), or still waiting beyond the first page.
      const receipt = await getReceipt(streamId, pendingId);
      if (receipt) return receipt;
      if (!(await getPending(streamId, pendingId))) throw unavailable('the append expired before it was committed; send it again');
      await sleep(roundTrip * (1 + Math.random()));
      continue;
    }
    const leader = waiting[0].id === pendingId;
    if (!leader && patience++ < LEADER_PATIENCE) {
      await sleep(roundTrip * (1 + Math.random()));
      continue;
    }
    const owner = status.owner && status.owner.until >= Date.now() ? status.owner : null;
    const accept: PendingAppend[] = [];
    const reject: { pending: PendingAppend; reason: string }[] = [];
    let budget = MAX_TRANSACTION_ITEMS - 1;
    for (const candidate of waiting) {
      const refused = owner && !(owner.type === candidate.writer.type && owner.id === candidate.writer.id);
      const cost = refused ? 1 : candidate.packets.length + 1;
      if (cost > budget) break;
      budget -= cost;
      if (refused) reject.push({ pending: candidate, reason: `stream is owned by ${owner.type} ${owner.id} until ${owner.expiresAt}; other writers are refused` });
      else accept.push(candidate);
    }
    const outcome = await groupCommit(streamId, status, accept, reject);
    if (outcome.ok) {
      const mine = outcome.committed.find((p) => p.id === pendingId);
      if (mine) return mine;
      const refusedMine = reject.find((r) => r.pending.id === pendingId);
      if (refusedMine) return { ...own, rejected: refusedMine.reason };
      continue;
    }
    // Another writer committed first: most likely this append too.
    patience = 0;
    await sleep(roundTrip * Math.random());
  }
  throw unavailable('the stream is receiving too many concurrent appends; retry shortly (with the same Idempotency-Key)');
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
