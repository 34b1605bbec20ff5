import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { ddb, tableName } from './client.ts';
import { recordOf } from './items.ts';
import { cancellationReasons } from './errors.ts';
import { purgeTombstonePut } from './purge.ts';
import { queryAll, queryPage, type Item } from './query.ts';
import type { Page } from './pagination.ts';
import { retryTransactionConflicts } from './retry.ts';
import { slotFree } from './slots.ts';

export interface GroupRecord {
  id: string;
  solutionId: string;
  name: string;
  description: string;
  /** Ordered: the group runs them one after another. */
  streams: string[];
  schedule: { cron: string; timezone?: string } | null;
  revision: number;
  createdAt: string;
  updatedAt: string;
  /** The group run in progress, if any (set and cleared by the group run lifecycle). */
  activeGroupRun: { id: string; status: string } | null;
  /** The newest group run (set with the claim at its start): what resume continues. */
  lastGroupRunId?: string | null;
}

export const groupKey = (id: string) => ({ PK: `GRP#${id}`, SK: 'GROUP' });
/** Membership items live in the stream's partition so stream-side readers (stats, delete) find them. */
export const membershipKey = (streamId: string, groupId: string) => ({ PK: `STM#${streamId}`, SK: `GROUP#${groupId}` });
const groupsPartition = (solutionId: string) => `SOL#${solutionId}#GROUPS`;

const FIELDS = ['id', 'solutionId', 'name', 'description', 'streams', 'schedule', 'revision', 'createdAt', 'updatedAt', 'activeGroupRun', 'lastGroupRunId'] as const;

export function toGroupRecord(item: Item): GroupRecord {
  return recordOf<GroupRecord>(item, FIELDS, { schedule: null, activeGroupRun: null, lastGroupRunId: null, description: '' });
}

const groupItem = (group: GroupRecord): Item => ({
  ...groupKey(group.id),
  GSI1PK: groupsPartition(group.solutionId),
  GSI1SK: group.id,
  type: 'group',
  ...group,
});

/** Membership changes that take a group from `before` to `after` streams (kept ones rewritten when the name changed). */
function membershipWrites(group: GroupRecord, before: string[], after: string[], renamed = false) {
  const added = after.filter((s) => renamed || !before.includes(s));
  const removed = before.filter((s) => !after.includes(s));
  return [
    ...added.map((streamId) => ({
      Put: { TableName: tableName(), Item: { ...membershipKey(streamId, group.id), type: 'group-membership', groupId: group.id, groupName: group.name, solutionId: group.solutionId } },
    })),
    ...removed.map((streamId) => ({ Delete: { TableName: tableName(), Key: membershipKey(streamId, group.id) } })),
  ];
}

export async function insertGroup(group: GroupRecord): Promise<void> {
  await retryTransactionConflicts(() =>
    ddb.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: tableName(), Item: groupItem(group), ConditionExpression: 'attribute_not_exists(PK)' } },
          ...membershipWrites(group, [], group.streams),
        ],
      }),
    ),
  );
}

export async function getGroupRecord(id: string): Promise<GroupRecord | undefined> {
  const result = await ddb.send(new GetCommand({ TableName: tableName(), Key: groupKey(id), ConsistentRead: true }));
  return result.Item ? toGroupRecord(result.Item) : undefined;
}

export type GroupWriteOutcome = 'ok' | 'stale' | 'running';

/**
 * Replaces a group still at `previous.revision`, moving memberships in the
 * same transaction. An update, not a put: the `activeGroupRun` slot belongs
 * to the group-run lifecycle and is never written from a read copy. Its
 * streams only change while no group run is active.
 */
export async function replaceGroup(previous: GroupRecord, next: GroupRecord): Promise<GroupWriteOutcome> {
  const streamsChange = previous.streams.join() !== next.streams.join();
  try {
    await retryTransactionConflicts(() =>
      ddb.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: tableName(),
                Key: groupKey(next.id),
                UpdateExpression: 'SET #name = :name, description = :description, streams = :streams, schedule = :schedule, revision = :next, updatedAt = :updatedAt',
                ConditionExpression: `revision = :revision${streamsChange ? ` AND ${slotFree('activeGroupRun')}` : ''}`,
                ExpressionAttributeNames: { '#name': 'name' },
                ExpressionAttributeValues: {
                  ':name': next.name,
                  ':description': next.description,
                  ':streams': next.streams,
                  ':schedule': next.schedule,
                  ':next': next.revision,
                  ':updatedAt': next.updatedAt,
                  ':revision': previous.revision,
                  ...(streamsChange ? { ':null': null } : {}),
                },
              },
            },
            ...membershipWrites(next, previous.streams, next.streams, previous.name !== next.name),
          ],
        }),
      ),
    );
    return 'ok';
  } catch (error) {
    if (cancellationReasons(error)?.[0] === 'ConditionalCheckFailed') {
      if (!streamsChange) return 'stale';
      const current = await getGroupRecord(previous.id);
      return current && current.revision === previous.revision && current.activeGroupRun ? 'running' : 'stale';
    }
    throw error;
  }
}

/** Deletes a group and its memberships, and puts its purge tombstone, unless it changed or is running. */
export async function removeGroup(group: GroupRecord): Promise<GroupWriteOutcome> {
  try {
    await retryTransactionConflicts(() =>
      ddb.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Delete: {
                TableName: tableName(),
                Key: groupKey(group.id),
                ConditionExpression: `revision = :revision AND ${slotFree('activeGroupRun')}`,
                ExpressionAttributeValues: { ':revision': group.revision, ':null': null },
              },
            },
            ...membershipWrites(group, group.streams, []),
            // Its group runs are removed in the background; the tombstone lists the group until then.
            purgeTombstonePut({ groupId: group.id, solutionId: group.solutionId }),
          ],
        }),
      ),
    );
    return 'ok';
  } catch (error) {
    if (cancellationReasons(error)?.[0] === 'ConditionalCheckFailed') return group.activeGroupRun ? 'running' : 'stale';
    throw error;
  }
}

/** The groups whose membership items name the stream, read consistently (the stream delete acts on what it finds). */
export async function groupIdsOfStream(streamId: string): Promise<string[]> {
  return (await queryAll(`STM#${streamId}`, 'GROUP#', undefined, true)).map((item) => String(item.groupId));
}

/**
 * The two writes that take `streamId` out of `group` (as read): the group's
 * list without it, `revision + 1` and `updatedAt`, and its membership item
 * deleted. `whileIdle` adds the condition that no group run is active.
 *
 * The list is SET under the revision read, not `REMOVE streams[i]` under
 * `streams[i] = :id`. Both remove exactly this id, but every write of
 * `streams` (replaceGroup) bumps the revision, so `revision = :revision` says
 * in one condition that the list is still the one read; the write is a
 * revision step like any other (an If-Match on the old revision gets 412; a
 * start that copied the old list fails its revision-conditioned claim and
 * copies it again), and the new revision is known without reading it back. A
 * write that lands between the read and this one (a PUT, a start, a group
 * delete) fails the condition and the caller reads again: neither write is
 * lost. `attribute_exists(PK)` keeps the update from creating a group.
 */
export function streamDropWrites(group: GroupRecord, streamId: string, options: { whileIdle: boolean }) {
  return [
    {
      Update: {
        TableName: tableName(),
        Key: groupKey(group.id),
        UpdateExpression: 'SET streams = :streams, revision = :next, updatedAt = :updatedAt',
        ConditionExpression: `attribute_exists(PK) AND revision = :revision${options.whileIdle ? ` AND ${slotFree('activeGroupRun')}` : ''}`,
        ExpressionAttributeValues: {
          ':streams': group.streams.filter((id) => id !== streamId),
          ':next': group.revision + 1,
          ':updatedAt': new Date().toISOString(),
          ':revision': group.revision,
          ...(options.whileIdle ? { ':null': null } : {}),
        },
      },
    },
    { Delete: { TableName: tableName(), Key: membershipKey(streamId, group.id) } },
  ];
}

/**
 * Takes a stream that no longer exists out of a group, even while the group
 * runs (a group run keeps its own copy of the list; Prepare or StartStream
 * reports the stream missing). For the one race the delete transaction
 * cannot hold: a group write that added the stream after the delete read its
 * memberships (docs/groups.md "Stream delete"). False when the group kept
 * changing for five reads.
 */
export async function dropDeletedStream(groupId: string, streamId: string): Promise<boolean> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const group = await getGroupRecord(groupId);
    if (!group?.streams.includes(streamId)) return true;
    try {
      await retryTransactionConflicts(() => ddb.send(new TransactWriteCommand({ TransactItems: streamDropWrites(group, streamId, { whileIdle: false }) })));
      return true;
    } catch (error) {
      if (cancellationReasons(error)?.[0] !== 'ConditionalCheckFailed') throw error;
    }
  }
  return false;
}

export async function listGroupRecords(solutionId: string, limit: number, cursor?: string): Promise<Page<GroupRecord>> {
  const page = await queryPage({ index: 'GSI1', partition: groupsPartition(solutionId), limit, cursor });
  return { items: page.items.map(toGroupRecord), nextCursor: page.nextCursor };
}
