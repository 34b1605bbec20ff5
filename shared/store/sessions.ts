import { DeleteCommand, GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ddb, tableName } from './client.ts';
import { cancellationReasons, isConditionFailure } from './errors.ts';
import { queryPage, type Item } from './query.ts';
import type { Page } from './pagination.ts';
import { dataStatusKey, type Actor, type DataStatus } from './packets.ts';

/**
 * Sessions of a stream: `PK=STM#{id}#SES, SK={sessionId}` (creation order).
 * A session is "in use" while `locks > 0 AND inUseUntil > now`: users (a
 * download building a bundle, a run) ADD 1 with a deadline and ADD -1 when
 * done; a user that crashes cannot pin the session past its deadline.
 */
export interface SessionRecord {
  id: string;
  start: number;
  stop: number;
  author: Actor;
  createdAt: string;
}

export const sessionsPartition = (streamId: string) => `STM#${streamId}#SES`;
const sessionKey = (streamId: string, sessionId: string) => ({ PK: sessionsPartition(streamId), SK: sessionId });

const toSession = (item: Item): SessionRecord => ({
  id: item.id,
  start: Number(item.start),
  stop: Number(item.stop),
  author: item.author,
  createdAt: item.createdAt,
});

const sessionItem = (streamId: string, session: SessionRecord) => ({ ...sessionKey(streamId, session.id), type: 'session', ...session });

export async function putSession(streamId: string, session: SessionRecord): Promise<void> {
  await ddb.send(new PutCommand({ TableName: tableName(), Item: sessionItem(streamId, session), ConditionExpression: 'attribute_not_exists(PK)' }));
}

export async function getSession(streamId: string, sessionId: string): Promise<SessionRecord | undefined> {
  const result = await ddb.send(new GetCommand({ TableName: tableName(), Key: sessionKey(streamId, sessionId), ConsistentRead: true }));
  return result.Item ? toSession(result.Item) : undefined;
}

/** Sessions overlapping first..last (start <= last AND stop >= first), one page. */
export async function listSessionsOverlapping(streamId: string, first: number, last: number, limit: number, cursor?: string): Promise<Page<SessionRecord>> {
  const page = await queryPage({
    partition: sessionsPartition(streamId),
    limit,
    cursor,
    consistent: true,
    keep: (item) => Number(item.start) <= last && Number(item.stop) >= first,
  });
  return { items: page.items.map(toSession), nextCursor: page.nextCursor };
}

export type SessionDelete = 'ok' | 'missing' | 'in-use';

export async function deleteSessionRecord(streamId: string, sessionId: string): Promise<SessionDelete> {
  try {
    await ddb.send(
      new DeleteCommand({
        TableName: tableName(),
        Key: sessionKey(streamId, sessionId),
        ConditionExpression: 'attribute_exists(PK) AND (attribute_not_exists(#locks) OR #locks <= :zero OR inUseUntil < :nowMs)',
        ExpressionAttributeNames: { '#locks': 'locks' },
        ExpressionAttributeValues: { ':zero': 0, ':nowMs': Date.now() },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return 'ok';
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    return (error as { Item?: unknown }).Item ? 'in-use' : 'missing';
  }
}

/** Marks a session in use until `untilMs`; false when the session no longer exists. */
export async function acquireSessionUse(streamId: string, sessionId: string, untilMs: number): Promise<boolean> {
  try {
    await ddb.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: sessionKey(streamId, sessionId),
        UpdateExpression: 'ADD #locks :one SET inUseUntil = :until',
        ConditionExpression: 'attribute_exists(PK)',
        ExpressionAttributeNames: { '#locks': 'locks' },
        ExpressionAttributeValues: { ':one': 1, ':until': untilMs },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

export async function releaseSessionUse(streamId: string, sessionId: string): Promise<void> {
  try {
    await ddb.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: sessionKey(streamId, sessionId),
        UpdateExpression: 'ADD #locks :minus',
        ConditionExpression: 'attribute_exists(PK)',
        ExpressionAttributeNames: { '#locks': 'locks' },
        ExpressionAttributeValues: { ':minus': -1 },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}

/** Opens a live session at the next index; false when one is already open. */
export async function openLiveSession(streamId: string): Promise<{ ok: boolean; openPacketIndex?: number }> {
  try {
    const result = await ddb.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: dataStatusKey(streamId),
        UpdateExpression: 'SET openPacketIndex = if_not_exists(packetIndex, :zero) + :one',
        ConditionExpression: 'attribute_not_exists(openPacketIndex)',
        ExpressionAttributeValues: { ':zero': 0, ':one': 1 },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return { ok: true, openPacketIndex: Number(result.Attributes?.openPacketIndex) };
  } catch (error) {
    if (isConditionFailure(error)) return { ok: false };
    throw error;
  }
}

/**
 * Closes the live session seen in `status`: clears openPacketIndex and, when
 * packets arrived since it opened, creates the session open..packetIndex, in
 * one transaction conditioned on the status being unchanged ('stale' = retry).
 */
export async function closeLiveSession(streamId: string, status: DataStatus, session: SessionRecord | undefined): Promise<'ok' | 'stale'> {
  const statusUpdate = {
    Update: {
      TableName: tableName(),
      Key: dataStatusKey(streamId),
      UpdateExpression: 'REMOVE openPacketIndex',
      ConditionExpression:
        status.packetIndex === 0
          ? 'openPacketIndex = :open AND (attribute_not_exists(packetIndex) OR packetIndex = :last)'
          : 'openPacketIndex = :open AND packetIndex = :last',
      ExpressionAttributeValues: { ':open': status.openPacketIndex, ':last': status.packetIndex },
    },
  };
  try {
    await ddb.send(
      new TransactWriteCommand({
        TransactItems: session
          ? [statusUpdate, { Put: { TableName: tableName(), Item: sessionItem(streamId, session), ConditionExpression: 'attribute_not_exists(PK)' } }]
          : [statusUpdate],
      }),
    );
    return 'ok';
  } catch (error) {
    const reasons = cancellationReasons(error);
    if (reasons && (reasons.includes('ConditionalCheckFailed') || reasons.includes('TransactionConflict'))) return 'stale';
    throw error;
  }
}
