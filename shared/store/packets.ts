import { GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ddb, tableName } from './client.ts';
import { cancellationReasons, isConditionFailure } from './errors.ts';
import { decodeCursor, encodeCursor, type Page } from './pagination.ts';
import type { Item } from './query.ts';

/**
 * The packet log of a stream (docs/packets.md has the full protocol):
 *
 * - `PK=STM#{id}, SK=DATA` the data-plane status: `packetIndex` (the last
 *   committed index, absent = 0), `lastPacketReceivedAt`, `openPacketIndex`,
 *   the writer lease `ownerType/ownerId/ownerUntil`. It is a separate item from
 *   the stream item because stream writes replace that item whole.
 * - `PK=STM#{id}#PKT, SK={index, 12 digits}` one immutable index entry per
 *   packet, pointing at the S3 object that holds its bytes.
 * - `PK=STM#{id}, SK=APPEND#{token}` an append's idempotency marker, written in
 *   the same transaction as the packets it committed (expires after 7 days).
 *
 * An index is assigned only by a transaction that moves `packetIndex` from n
 * to n+k and creates entries n+1..n+k (each `attribute_not_exists`), so indexes
 * are gapless and never reused whatever the concurrency or crashes.
 */
export const MAX_PACKET_INDEX = 999_999_999_999;
export const padIndex = (index: number) => String(index).padStart(12, '0');

export const dataStatusKey = (streamId: string) => ({ PK: `STM#${streamId}`, SK: 'DATA' });
export const packetsPartition = (streamId: string) => `STM#${streamId}#PKT`;
const packetKey = (streamId: string, index: number) => ({ PK: packetsPartition(streamId), SK: padIndex(index) });
const appendMarkerKey = (streamId: string, token: string) => ({ PK: `STM#${streamId}`, SK: `APPEND#${token}` });

const MARKER_TTL_SECONDS = 7 * 24 * 3600;

/** Who wrote something: an API key or a run (packet-sink). */
export interface Actor {
  type: string;
  id: string;
}

export interface DataStatus {
  packetIndex: number;
  lastPacketReceivedAt: string | null;
  openPacketIndex: number | null;
  owner: (Actor & { expiresAt: string; until: number }) | null;
}

export interface PacketEntry {
  index: number;
  size: number;
  contentType: string;
  receivedAt: string;
  source: Actor;
  /** S3 key of the bytes (content addressed). */
  objectKey: string;
  sha256: string;
}

export function toDataStatus(item: Item | undefined): DataStatus {
  return {
    packetIndex: Number(item?.packetIndex ?? 0),
    lastPacketReceivedAt: item?.lastPacketReceivedAt ?? null,
    openPacketIndex: item?.openPacketIndex ?? null,
    owner: item?.ownerId
      ? { type: item.ownerType, id: item.ownerId, expiresAt: new Date(Number(item.ownerUntil)).toISOString(), until: Number(item.ownerUntil) }
      : null,
  };
}

/** The status as a strongly consistent read: what every committed append left. */
export async function getDataStatus(streamId: string): Promise<DataStatus> {
  const result = await ddb.send(new GetCommand({ TableName: tableName(), Key: dataStatusKey(streamId), ConsistentRead: true }));
  return toDataStatus(result.Item);
}

const toEntry = (item: Item): PacketEntry => ({
  index: Number(item.index),
  size: Number(item.size),
  contentType: item.contentType,
  receivedAt: item.receivedAt,
  source: item.source,
  objectKey: item.objectKey,
  sha256: item.sha256,
});

export type NewPacket = Omit<PacketEntry, 'index'>;

export type CommitOutcome =
  | { ok: true; entries: PacketEntry[] }
  /** Another append moved packetIndex (or the lease) first: retry on `status`. */
  | { ok: false; reason: 'stale'; status?: DataStatus }
  /** The idempotency marker exists: this append was committed before. */
  | { ok: false; reason: 'replayed' }
  | { ok: false; reason: 'contention' };

const ownerFree = '(attribute_not_exists(ownerUntil) OR ownerUntil < :nowMs OR (ownerType = :actorType AND ownerId = :actorId))';

/**
 * One attempt to commit packets as indexes expected+1..expected+k: one
 * transaction (status update + k entries + optional marker). Never partial.
 */
export async function commitPackets(
  streamId: string,
  expected: number,
  packets: NewPacket[],
  writer: Actor,
  marker?: { token: string; bodyHash: string },
): Promise<CommitOutcome> {
  const now = packets[0]?.receivedAt ?? new Date().toISOString();
  const entries: PacketEntry[] = packets.map((packet, i) => ({ ...packet, index: expected + 1 + i }));
  const last = expected + packets.length;
  const items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']> = [
    {
      Update: {
        TableName: tableName(),
        Key: dataStatusKey(streamId),
        UpdateExpression: 'SET packetIndex = :last, lastPacketReceivedAt = :now',
        ConditionExpression: `${expected === 0 ? '(attribute_not_exists(packetIndex) OR packetIndex = :expected)' : 'packetIndex = :expected'} AND ${ownerFree}`,
        ExpressionAttributeValues: {
          ':last': last,
          ':now': now,
          ':expected': expected,
          ':nowMs': Date.now(),
          ':actorType': writer.type,
          ':actorId': writer.id,
        },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    },
    ...entries.map((entry) => ({
      Put: {
        TableName: tableName(),
        Item: { ...packetKey(streamId, entry.index), type: 'packet', ...entry },
        ConditionExpression: 'attribute_not_exists(PK)',
      },
    })),
  ];
  if (marker) {
    items.push({
      Put: {
        TableName: tableName(),
        Item: {
          ...appendMarkerKey(streamId, marker.token),
          type: 'append-marker',
          bodyHash: marker.bodyHash,
          first: expected + 1,
          last,
          expiresAt: Math.floor(Date.now() / 1000) + MARKER_TTL_SECONDS,
        },
        ConditionExpression: 'attribute_not_exists(PK)',
      },
    });
  }
  try {
    await ddb.send(new TransactWriteCommand({ TransactItems: items }));
    return { ok: true, entries };
  } catch (error) {
    const reasons = cancellationReasons(error);
    if (!reasons) throw error;
    if (marker && reasons[reasons.length - 1] === 'ConditionalCheckFailed') return { ok: false, reason: 'replayed' };
    if (reasons.includes('ConditionalCheckFailed')) {
      const old = (error as { CancellationReasons?: { Item?: Record<string, { N?: string; S?: string }> }[] }).CancellationReasons?.[0]?.Item;
      return { ok: false, reason: 'stale', status: old ? statusFromRaw(old) : undefined };
    }
    if (reasons.includes('TransactionConflict')) return { ok: false, reason: 'contention' };
    throw error;
  }
}

/** The status item from a cancellation reason's raw (marshalled) item. */
function statusFromRaw(raw: Record<string, { N?: string; S?: string }>): DataStatus {
  const plain: Item = {};
  for (const [name, value] of Object.entries(raw)) plain[name] = value.N !== undefined ? Number(value.N) : value.S;
  return toDataStatus(plain);
}

export interface AppendMarker {
  bodyHash: string;
  first: number;
  last: number;
}

export async function getAppendMarker(streamId: string, token: string): Promise<AppendMarker | undefined> {
  const result = await ddb.send(new GetCommand({ TableName: tableName(), Key: appendMarkerKey(streamId, token), ConsistentRead: true }));
  return result.Item ? { bodyHash: result.Item.bodyHash, first: Number(result.Item.first), last: Number(result.Item.last) } : undefined;
}

/**
 * Index entries with first <= index <= last, in index order, one page. Reads
 * are strongly consistent, so every committed entry is seen.
 */
export async function queryPacketEntries(streamId: string, first: number, last: number, limit: number, cursor?: string): Promise<Page<PacketEntry>> {
  const partition = packetsPartition(streamId);
  const startKey = decodeCursor(cursor, { name: 'PK', value: partition });
  const result = await ddb.send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: 'PK = :pk AND SK BETWEEN :first AND :last',
      ExpressionAttributeValues: { ':pk': partition, ':first': padIndex(Math.max(first, 0)), ':last': padIndex(Math.min(last, MAX_PACKET_INDEX)) },
      ExclusiveStartKey: startKey,
      ConsistentRead: true,
      Limit: limit,
    }),
  );
  const items = (result.Items ?? []).map(toEntry);
  const more = result.LastEvaluatedKey && items.length > 0 && items[items.length - 1].index < last;
  return { items, nextCursor: more ? encodeCursor({ PK: partition, SK: padIndex(items[items.length - 1].index) }) : null };
}

/** Every entry of a range, page by page (memory: one page at a time for the caller). */
export async function* iteratePacketEntries(streamId: string, first: number, last: number, pageSize = 200): AsyncGenerator<PacketEntry> {
  let cursor: string | undefined;
  do {
    const page = await queryPacketEntries(streamId, first, last, pageSize, cursor);
    yield* page.items;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}

export type LeaseOutcome = { ok: true; status: DataStatus } | { ok: false; status: DataStatus };

/** Takes or renews the writer lease; refused while another actor holds an unexpired one. */
export async function takeLease(streamId: string, actor: Actor, ttlSeconds: number): Promise<LeaseOutcome> {
  const nowMs = Date.now();
  try {
    const result = await ddb.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: dataStatusKey(streamId),
        UpdateExpression: 'SET ownerType = :actorType, ownerId = :actorId, ownerUntil = :until',
        ConditionExpression: ownerFree,
        ExpressionAttributeValues: { ':actorType': actor.type, ':actorId': actor.id, ':until': nowMs + ttlSeconds * 1000, ':nowMs': nowMs },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return { ok: true, status: toDataStatus(result.Attributes) };
  } catch (error) {
    if (isConditionFailure(error)) return { ok: false, status: await getDataStatus(streamId) };
    throw error;
  }
}

/** Releases the lease if this actor holds it or it expired; refused while another actor holds it. */
export async function releaseLease(streamId: string, actor: Actor): Promise<LeaseOutcome> {
  const nowMs = Date.now();
  try {
    const result = await ddb.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: dataStatusKey(streamId),
        UpdateExpression: 'REMOVE ownerType, ownerId, ownerUntil',
        ConditionExpression: ownerFree,
        ExpressionAttributeValues: { ':actorType': actor.type, ':actorId': actor.id, ':nowMs': nowMs },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return { ok: true, status: toDataStatus(result.Attributes) };
  } catch (error) {
    if (isConditionFailure(error)) return { ok: false, status: await getDataStatus(streamId) };
    throw error;
  }
}
