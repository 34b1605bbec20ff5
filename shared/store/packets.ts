import { DeleteCommand, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ddb, tableName } from './client.ts';
import { cancellationReasons, isConditionFailure } from './errors.ts';
import { decodeCursor, encodeCursor, type Page } from './pagination.ts';
import { retryTransactionConflicts } from './retry.ts';
import type { Item } from './query.ts';

/**
 * The packet log of a stream (docs/packets.md has the full protocol):
 *
 * - `PK=STM#{id}#DATA, SK=#STATUS` the data-plane status: `packetIndex` (the last
 *   committed index, absent = 0), `lastPacketReceivedAt`, `openPacketIndex`,
 *   the writer lease `ownerType/ownerId/ownerUntil`. It is a separate item from
 *   the stream item because stream writes replace that item whole.
 * - `PK=STM#{id}#PKT, SK={index, 12 digits}` one immutable index entry per
 *   packet, pointing at the S3 object that holds its bytes.
 * - `PK=STM#{id}#DATA, SK=PEND#{ulid}` an append waiting for indexes (group commit);
 *   its commit moves it to `PK=STM#{id}#RCPT, SK={ulid}`, the receipt its writer reads.
 * - `PK=STM#{id}, SK=APPEND#{token}` an append's idempotency marker, written in
 *   the same transaction as its pending append (expires after 7 days).
 *
 * An index is assigned only by a transaction that moves `packetIndex` from n
 * to n+k and creates entries n+1..n+k (each `attribute_not_exists`), so indexes
 * are gapless and never reused whatever the concurrency or crashes.
 */
export const MAX_PACKET_INDEX = 999_999_999_999;
export const padIndex = (index: number) => String(index).padStart(12, '0');

/** The status and the waiting appends share a partition, so one Query reads both. */
export const dataPartition = (streamId: string) => `STM#${streamId}#DATA`;
export const dataStatusKey = (streamId: string) => ({ PK: dataPartition(streamId), SK: '#STATUS' });
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

export type NewPacket = Omit<PacketEntry, 'index' | 'receivedAt'>;

/**
 * An append waiting for its indexes: `PK=STM#{id}#DATA, SK=PEND#{ulid}`. Writers
 * park their packets here, then any writer commits every waiting append in
 * one transaction (group commit), so 20 concurrent writers cost a handful of
 * transactions, not 20 racing ones per packet.
 */
export interface PendingAppend {
  id: string;
  writer: Actor;
  packets: NewPacket[];
  createdAt: string;
  /** Set by the commit that assigned the indexes first..first+packets.length-1. */
  assignedFirst?: number;
  receivedAt?: string;
  /** Set instead when the stream's owner lease refused this writer. */
  rejected?: string;
  /** Carries an idempotency token: its receipt is kept as long as the marker. */
  token?: boolean;
}

const pendingKey = (streamId: string, id: string) => ({ PK: dataPartition(streamId), SK: `PEND#${id}` });
/** Where a committed (or refused) append's outcome goes, out of the data partition. */
export const receiptsPartition = (streamId: string) => `STM#${streamId}#RCPT`;
const receiptKey = (streamId: string, id: string) => ({ PK: receiptsPartition(streamId), SK: id });
const RECEIPT_TTL_SECONDS = 3600;
/** The transaction limit: status item + entries + 2 per settled append. */
export const MAX_TRANSACTION_ITEMS = 100;
const PENDING_TTL_SECONDS = 24 * 3600;

const toPending = (item: Item): PendingAppend => ({
  id: item.id,
  writer: item.writer,
  packets: item.packets,
  createdAt: item.createdAt,
  assignedFirst: item.assignedFirst === undefined ? undefined : Number(item.assignedFirst),
  receivedAt: item.receivedAt,
  rejected: item.rejected,
  token: item.token,
});

export type ParkOutcome = { parked: true } | { parked: false; marker: AppendMarker };

/**
 * Parks an append (with its idempotency marker, in one transaction). When the
 * marker exists, nothing is written and the earlier append's marker is returned.
 */
export async function parkAppend(streamId: string, pending: PendingAppend, marker?: { token: string; bodyHash: string }): Promise<ParkOutcome> {
  const now = Math.floor(Date.now() / 1000);
  const pendingPut = {
    Put: {
      TableName: tableName(),
      Item: {
        ...pendingKey(streamId, pending.id),
        type: 'pending-append',
        ...pending,
        expiresAt: now + (marker ? MARKER_TTL_SECONDS : PENDING_TTL_SECONDS),
      },
      ConditionExpression: 'attribute_not_exists(PK)',
    },
  };
  if (!marker) {
    await ddb.send(new PutCommand(pendingPut.Put));
    return { parked: true };
  }
  try {
    await retryTransactionConflicts(() => ddb.send(
      new TransactWriteCommand({
        TransactItems: [
          pendingPut,
          {
            Put: {
              TableName: tableName(),
              Item: { ...appendMarkerKey(streamId, marker.token), type: 'append-marker', bodyHash: marker.bodyHash, pendingId: pending.id, expiresAt: now + MARKER_TTL_SECONDS },
              ConditionExpression: 'attribute_not_exists(PK)',
            },
          },
        ],
      }),
    ));
    return { parked: true };
  } catch (error) {
    if (cancellationReasons(error)?.[1] !== 'ConditionalCheckFailed') throw error;
    const existing = await getAppendMarker(streamId, marker.token);
    if (!existing) throw error;
    return { parked: false, marker: existing };
  }
}

export async function getPending(streamId: string, id: string): Promise<PendingAppend | undefined> {
  const result = await ddb.send(new GetCommand({ TableName: tableName(), Key: pendingKey(streamId, id), ConsistentRead: true }));
  return result.Item ? toPending(result.Item) : undefined;
}

/** The outcome of a committed or refused append (read by its writer). */
export async function getReceipt(streamId: string, id: string): Promise<PendingAppend | undefined> {
  const result = await ddb.send(new GetCommand({ TableName: tableName(), Key: receiptKey(streamId, id), ConsistentRead: true }));
  return result.Item ? toPending(result.Item) : undefined;
}

/**
 * The status and the oldest waiting appends, in one strongly consistent Query
 * (committed appends leave the partition in their commit, so it only ever
 * holds the status and appends still waiting).
 */
export async function readDataLog(streamId: string, max = MAX_TRANSACTION_ITEMS): Promise<{ status: DataStatus; pending: PendingAppend[] }> {
  const result = await ddb.send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': dataPartition(streamId) },
      ConsistentRead: true,
      Limit: max + 1,
    }),
  );
  const items = result.Items ?? [];
  const statusItem = items[0]?.SK === '#STATUS' ? items[0] : undefined;
  return { status: toDataStatus(statusItem), pending: items.filter((item) => item.type === 'pending-append').map(toPending) };
}

/** Moves a settled append out of the data partition into its receipt (2 transaction items). */
function settle(streamId: string, outcome: PendingAppend & { token?: boolean }) {
  const now = Math.floor(Date.now() / 1000);
  return [
    { Delete: { TableName: tableName(), Key: pendingKey(streamId, outcome.id), ConditionExpression: 'attribute_exists(PK)' } },
    {
      Put: {
        TableName: tableName(),
        Item: { ...receiptKey(streamId, outcome.id), ...outcome, type: 'append-receipt', expiresAt: now + (outcome.token ? MARKER_TTL_SECONDS : RECEIPT_TTL_SECONDS) },
      },
    },
  ];
}

export type GroupCommitOutcome = { ok: true; committed: PendingAppend[] } | { ok: false; reason: 'stale' | 'contention' };

/**
 * One group commit: given the status as read, assigns consecutive indexes to
 * `accept` in order (entries put with attribute_not_exists, each pending append
 * marked with its first index) and marks `reject`ed appends, in ONE transaction
 * conditioned on packetIndex and the owner lease being exactly as read. A lost
 * race changes nothing.
 */
export async function groupCommit(
  streamId: string,
  status: DataStatus,
  accept: PendingAppend[],
  reject: { pending: PendingAppend; reason: string }[],
): Promise<GroupCommitOutcome> {
  const receivedAt = new Date().toISOString();
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = { ':expected': status.packetIndex };
  let condition = status.packetIndex === 0 ? '(attribute_not_exists(packetIndex) OR packetIndex = :expected)' : 'packetIndex = :expected';
  if (status.owner) {
    condition += ' AND ownerType = :ownerType AND ownerId = :ownerId AND ownerUntil = :ownerUntil';
    Object.assign(values, { ':ownerType': status.owner.type, ':ownerId': status.owner.id, ':ownerUntil': status.owner.until });
  } else {
    condition += ' AND attribute_not_exists(ownerId)';
  }
  let next = status.packetIndex;
  const items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']> = [];
  const committed: PendingAppend[] = [];
  for (const pending of accept) {
    const first = next + 1;
    pending.packets.forEach((packet, i) => {
      const entry: PacketEntry = { ...packet, index: first + i, receivedAt };
      items.push({ Put: { TableName: tableName(), Item: { ...packetKey(streamId, entry.index), type: 'packet', ...entry }, ConditionExpression: 'attribute_not_exists(PK)' } });
    });
    next += pending.packets.length;
    const outcome = { ...pending, assignedFirst: first, receivedAt };
    items.push(...settle(streamId, outcome));
    committed.push(outcome);
  }
  for (const { pending, reason } of reject) items.push(...settle(streamId, { ...pending, rejected: reason }));
  const statusUpdate = {
    Update: {
      TableName: tableName(),
      Key: dataStatusKey(streamId),
      UpdateExpression: next > status.packetIndex ? 'SET packetIndex = :last, lastPacketReceivedAt = :now' : 'SET packetIndex = :expected',
      ConditionExpression: condition,
      ExpressionAttributeNames: Object.keys(names).length ? names : undefined,
      ExpressionAttributeValues: next > status.packetIndex ? { ...values, ':last': next, ':now': receivedAt } : values,
    },
  };
  try {
    await ddb.send(new TransactWriteCommand({ TransactItems: [statusUpdate, ...items] }));
    return { ok: true, committed };
  } catch (error) {
    const reasons = cancellationReasons(error);
    if (!reasons) throw error;
    if (reasons.includes('ConditionalCheckFailed')) return { ok: false, reason: 'stale' };
    if (reasons.includes('TransactionConflict')) return { ok: false, reason: 'contention' };
    throw error;
  }
}

export interface AppendMarker {
  bodyHash: string;
  pendingId: string;
}

export async function getAppendMarker(streamId: string, token: string): Promise<AppendMarker | undefined> {
  const result = await ddb.send(new GetCommand({ TableName: tableName(), Key: appendMarkerKey(streamId, token), ConsistentRead: true }));
  return result.Item ? { bodyHash: result.Item.bodyHash, pendingId: result.Item.pendingId } : undefined;
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

/** The lease is free for `actor`: none, expired, or its own. */
const ownerFree = '(attribute_not_exists(ownerUntil) OR ownerUntil < :nowMs OR (ownerType = :actorType AND ownerId = :actorId))';

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
